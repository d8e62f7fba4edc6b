import { setTimer, type Clock } from '../core/clock.js'
import { EventEmitter } from '../core/events.js'
import { errorFields, type Logger } from '../core/logger.js'
import type { ResolvedRedisOptions } from './redis-options.js'

/** Where a component's answers come from: the shared state in Redis, or its per-process fallback. */
export type BackendState = 'redis' | 'fallback'

export interface BackendStateChange {
  readonly from: BackendState
  readonly to: BackendState
  /** The Redis error that caused the fallback (absent when returning to Redis). */
  readonly error?: unknown
}

/** Logged (warn) once per switch to the fallback, with the error that caused it. */
export const FALLBACK_ACTIVE = 'breakwater: Redis unusable, fallback active'
/** Logged (info) once per return to Redis, after a background check succeeded. */
export const FALLBACK_ENDED = 'breakwater: Redis reachable again, fallback ended'

/**
 * Redis refusing a command for this user (ACL): `NOPERM` on the command itself, or the message a
 * script gets when a command inside it is refused. Such an error does not go away by trying again,
 * so it switches to the fallback at once instead of being counted toward the threshold.
 */
const REFUSED = /NOPERM|no permissions|can't run this command/i

/** True for an error that says this user may not do what the component needs (see REFUSED). */
export function isRefusal(error: unknown): boolean {
  return REFUSED.test(error instanceof Error ? error.message : String(error))
}

/**
 * Whether Redis is usable (D5, D7), for any component that keeps shared state there. Counts
 * consecutive backend errors; at `failureThreshold` (or at once for a refusal) it switches to the
 * fallback, logs once and raises an event, then checks Redis in the background every
 * `recoveryCheckMs` (never with live traffic) until a check succeeds, and logs and raises the
 * event again. The check is given the key of the command that failed last, so it tests the shard
 * that failed, not whichever answers first.
 */
export class BackendHealth {
  state: BackendState = 'redis'
  private errors = 0
  private cancelCheck: (() => void) | undefined
  private lastError: unknown
  private failedKey: string | undefined
  private stopped = false
  private first: Promise<void> | undefined
  private readonly emitter = new EventEmitter<BackendStateChange>()
  readonly onChange = this.emitter.addListener

  private readonly failureThreshold: number
  private readonly recoveryCheckMs: number
  private readonly clock: Clock
  private readonly logger: Logger

  constructor(
    o: Pick<ResolvedRedisOptions, 'failureThreshold' | 'recoveryCheckMs' | 'clock' | 'logger'>,
    /** What answers while Redis is unusable, as the log entries name it (`fallback` field). */
    private readonly fallback: string,
    /** Runs one background check on `key` (undefined: no command failed yet); rejects if Redis is unusable. */
    private readonly check: (key: string | undefined) => Promise<void>,
    private readonly track: (work: Promise<unknown>) => void,
  ) {
    this.failureThreshold = o.failureThreshold
    this.recoveryCheckMs = o.recoveryCheckMs
    this.clock = o.clock
    this.logger = o.logger
  }

  /**
   * Watches the owner's first connection attempt. Its dedicated connection has no offline queue,
   * so a command sent before the attempt settles would fail: commands wait for `starting`. If the
   * attempt fails, the fallback answers at once.
   */
  start(attempt: Promise<void>): void {
    const watched = attempt.then(
      () => void (this.first = undefined),
      (error: unknown) => {
        this.first = undefined
        if (!this.stopped) this.fallBack(error)
      },
    )
    this.first = watched
    this.track(watched)
  }

  /** The first connection attempt while it has not settled (it never rejects), else undefined. */
  get starting(): Promise<void> | undefined {
    return this.first
  }

  /** True while Redis is unusable or the owner has stopped: its fallback answers alone. */
  get local(): boolean {
    return this.state === 'fallback' || this.stopped
  }

  /** The error that caused the current fallback, if any. */
  get error(): unknown {
    return this.lastError
  }

  /** A command succeeded. */
  ok(): void {
    this.errors = 0
  }

  /** A command on `key` failed; switches to the fallback at the threshold, or at once for a refusal. */
  failed(error: unknown, key?: string): void {
    this.lastError = error
    if (key !== undefined) this.failedKey = key
    if (this.state !== 'redis') return
    if (++this.errors >= this.failureThreshold || isRefusal(error)) this.fallBack(error)
  }

  /** Switches to the fallback at once (the first connection failed). */
  fallBack(error: unknown): void {
    this.lastError = error
    if (this.state === 'fallback') return
    this.state = 'fallback'
    this.logger.warn(FALLBACK_ACTIVE, {
      from: 'redis',
      to: 'fallback',
      fallback: this.fallback,
      ...errorFields(error),
    })
    this.emitter.emit({ from: 'redis', to: 'fallback', error })
    this.schedule()
  }

  /** Starts a background check unless one is pending (also used when only a subscriber is down). */
  schedule(): void {
    if (this.cancelCheck !== undefined || this.stopped) return
    this.cancelCheck = setTimer(this.clock, this.recoveryCheckMs, () => {
      this.cancelCheck = undefined
      this.track(this.runCheck())
    })
  }

  private async runCheck(): Promise<void> {
    try {
      await this.check(this.failedKey)
    } catch (error) {
      this.lastError = error
      if (!this.stopped) this.schedule()
      return
    }
    if (this.state === 'fallback' && !this.stopped) {
      this.state = 'redis'
      this.errors = 0
      this.lastError = undefined
      this.failedKey = undefined
      this.logger.info(FALLBACK_ENDED, { from: 'fallback', to: 'redis', fallback: this.fallback })
      this.emitter.emit({ from: 'fallback', to: 'redis' })
    }
  }

  stop(): void {
    this.stopped = true
    this.cancelCheck?.()
    this.cancelCheck = undefined
  }
}
