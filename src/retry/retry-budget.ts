import { systemClock, type Clock } from '../core/clock.js'
import { optionalClock, optionalNumber, requireNumber, requireOptions } from '../core/validate.js'

const OWNER = 'retryBudget'
const BUCKETS = 10

export interface RetryBudgetOptions {
  /**
   * Retries allowed as a share of calls in the window: 0.2 lets retries add at most 20 % on top of
   * the calls. Required; a finite number >= 0.
   */
  ratio: number
  /** Retries always allowed per second of window, so a quiet service can still retry. Default 10. */
  minPerSecond?: number
  /** Length of the sliding window in ms. Default 10 000. */
  windowMs?: number
  /** Source of time. Default `systemClock`. */
  clock?: Clock
}

/**
 * A sliding-window retry budget shared by any number of retry guards: when retries would exceed
 * `ratio` of the calls in the window (plus the floor), retries stop and errors surface at once.
 * This is what keeps a fleet from turning a provider blip into a retry storm.
 */
export class RetryBudget {
  readonly ratio: number
  readonly minPerSecond: number
  readonly windowMs: number
  private readonly clock: Clock
  private readonly bucketMs: number
  private readonly calls = new Array<number>(BUCKETS).fill(0)
  private readonly retries = new Array<number>(BUCKETS).fill(0)
  private callSum = 0
  private retrySum = 0
  /** Index of the newest bucket, counted from time zero. */
  private head: number

  constructor(options: RetryBudgetOptions) {
    const o = requireOptions<RetryBudgetOptions>(OWNER, options)
    this.ratio = requireNumber(OWNER, 'ratio', o.ratio, { min: 0 })
    this.minPerSecond = optionalNumber(OWNER, 'minPerSecond', o.minPerSecond, 10, { min: 0 })
    this.windowMs = optionalNumber(OWNER, 'windowMs', o.windowMs, 10_000, { above: 0 })
    optionalClock(OWNER, o.clock, false)
    this.clock = o.clock ?? systemClock
    this.bucketMs = this.windowMs / BUCKETS
    this.head = Math.floor(this.clock.now() / this.bucketMs)
  }

  /** Counts a call (every call deposits into the budget). */
  recordCall(): void {
    this.advance()
    this.calls[this.head % BUCKETS]!++
    this.callSum++
  }

  /** Takes one retry from the budget; false when it is exhausted. */
  tryAcquire(): boolean {
    this.advance()
    if (this.retrySum + 1 > this.allowed()) return false
    this.retries[this.head % BUCKETS]!++
    this.retrySum++
    return true
  }

  /** Retries still allowed in the current window. */
  get remaining(): number {
    this.advance()
    return Math.max(0, Math.floor(this.allowed() - this.retrySum))
  }

  private allowed(): number {
    return this.ratio * this.callSum + (this.minPerSecond * this.windowMs) / 1000
  }

  /** Drops buckets that slid out of the window. */
  private advance(): void {
    const now = Math.floor(this.clock.now() / this.bucketMs)
    if (now <= this.head) return
    const steps = Math.min(now - this.head, BUCKETS)
    for (let i = 1; i <= steps; i++) {
      const slot = (this.head + i) % BUCKETS
      this.callSum -= this.calls[slot]!
      this.retrySum -= this.retries[slot]!
      this.calls[slot] = 0
      this.retries[slot] = 0
    }
    this.head = now
  }
}

/** Creates a retry budget to share between retry guards (`retryGuard({ budget })`). */
export function retryBudget(options: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options)
}
