import type {
  BackendLogger,
  BackendState,
  BackendStateChange,
} from '../circuit/backends/redis/redis-backend-options.js'
import { setTimer, type Clock } from '../core/clock.js'
import { EventEmitter } from '../core/events.js'

/** How a component on Redis names itself and its fallback in the two log lines it writes. */
export interface HealthWording {
  /** e.g. 'Redis rate limit store'. */
  readonly subject: string
  /** What answers meanwhile, e.g. 'a per-process share of each budget'. */
  readonly fallback: string
  /** What is shared again once Redis is back, e.g. 'the fleet budget'. */
  readonly shared: string
}

/**
 * Whether Redis is usable (D5), for any component that keeps shared state there. Counts
 * consecutive backend errors; at `failureThreshold` it switches to the fallback, logs once and
 * raises an event, then checks Redis in the background every `recoveryCheckMs` (never with live
 * traffic) until a check succeeds, and logs and raises the event again.
 */
export class BackendHealth {
  state: BackendState = 'redis'
  private errors = 0
  private cancelCheck: (() => void) | undefined
  private lastError: unknown
  private stopped = false
  private readonly emitter = new EventEmitter<BackendStateChange>()
  readonly onChange = this.emitter.addListener

  constructor(
    private readonly failureThreshold: number,
    private readonly recoveryCheckMs: number,
    private readonly clock: Clock,
    private readonly logger: BackendLogger,
    private readonly wording: HealthWording,
    /** Runs one background check; resolves when Redis is usable again, rejects otherwise. */
    private readonly check: () => Promise<void>,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** The error that caused the current fallback, if any. */
  get error(): unknown {
    return this.lastError
  }

  /** A command succeeded. */
  ok(): void {
    this.errors = 0
  }

  /** A command failed; switches to the fallback when the threshold is reached. */
  failed(error: unknown): void {
    this.lastError = error
    if (this.state !== 'redis') return
    if (++this.errors >= this.failureThreshold) this.fallBack(error)
  }

  /** Switches to the fallback at once (the first connection failed). */
  fallBack(error: unknown): void {
    this.lastError = error
    if (this.state === 'fallback') return
    this.state = 'fallback'
    const { subject, fallback } = this.wording
    this.logger.warn(
      `breakwater: ${subject} unusable (${describe(error)}); answering from ${fallback} until a background check succeeds`,
    )
    this.emitter.emit({ from: 'redis', to: 'fallback', error })
    this.schedule()
  }

  /** Starts a background check unless one is pending. */
  schedule(): void {
    if (this.cancelCheck !== undefined || this.stopped) return
    this.cancelCheck = setTimer(this.clock, this.recoveryCheckMs, () => {
      this.cancelCheck = undefined
      this.track(this.runCheck())
    })
  }

  private async runCheck(): Promise<void> {
    try {
      await this.check()
    } catch (error) {
      this.lastError = error
      if (!this.stopped) this.schedule()
      return
    }
    if (this.state === 'fallback' && !this.stopped) {
      this.state = 'redis'
      this.errors = 0
      this.lastError = undefined
      const { subject, shared } = this.wording
      ;(this.logger.info ?? this.logger.warn).call(
        this.logger,
        `breakwater: ${subject} reachable again; ${shared} is back in use`,
      )
      this.emitter.emit({ from: 'fallback', to: 'redis' })
    }
  }

  stop(): void {
    this.stopped = true
    this.cancelCheck?.()
    this.cancelCheck = undefined
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
