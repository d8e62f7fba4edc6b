import { setTimer, type Clock } from '../../../core/clock.js'
import { EventEmitter } from '../../../core/events.js'
import type { BackendLogger, BackendState, BackendStateChange } from './redis-backend-options.js'

/**
 * Whether Redis is usable (D5). Counts consecutive backend errors; at `failureThreshold` it
 * switches to the fallback, logs once and raises an event, then probes Redis in the background
 * every `recoveryCheckMs` (never with live traffic) until a check succeeds.
 */
export class BackendHealth {
  state: BackendState = 'redis'
  private errors = 0
  private cancelCheck: (() => void) | undefined
  private lastError: unknown
  private readonly emitter = new EventEmitter<BackendStateChange>()
  readonly onChange = this.emitter.addListener

  constructor(
    private readonly failureThreshold: number,
    private readonly recoveryCheckMs: number,
    private readonly clock: Clock,
    private readonly logger: BackendLogger,
    private readonly fallbackName: string,
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
    this.logger.warn(
      `breakwater: Redis circuit backend unusable (${describe(error)}); answering from the ${this.fallbackName} fallback until a background check succeeds`,
    )
    this.emitter.emit({ from: 'redis', to: 'fallback', error })
    this.schedule()
  }

  /** Starts a background check unless one is pending (also used when only the subscriber is down). */
  schedule(): void {
    if (this.cancelCheck !== undefined) return
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
      ;(this.logger.info ?? this.logger.warn).call(
        this.logger,
        'breakwater: Redis circuit backend reachable again; shared breaker state is back in use',
      )
      this.emitter.emit({ from: 'fallback', to: 'redis' })
    }
  }

  private stopped = false

  stop(): void {
    this.stopped = true
    this.cancelCheck?.()
    this.cancelCheck = undefined
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
