import { setTimer, type Clock } from '../../../core/clock.js'
import type { CircuitConfig } from '../../circuit-backend.js'

/**
 * Failure-rate mode: successes are counted here and flushed with HINCRBY on a short interval,
 * rather than one command per call. A report sent for a service meanwhile carries its count along
 * (`take`), so the window sees every call once.
 */
export class SuccessTallies {
  private readonly tallies = new Map<string, { config: CircuitConfig; successes: number }>()
  private cancelFlush: (() => void) | undefined

  constructor(
    private readonly clock: Clock,
    private readonly flushIntervalMs: number,
    /** Sends one service's tally (its report takes the count). */
    private readonly flush: (service: string, config: CircuitConfig) => void,
  ) {}

  /** One more success; starts the flush timer unless it is running. */
  count(service: string, config: CircuitConfig): void {
    const tally = this.tallies.get(service)
    if (tally !== undefined) tally.successes++
    else this.tallies.set(service, { config, successes: 1 })
    this.cancelFlush ??= setTimer(this.clock, this.flushIntervalMs, () => {
      this.cancelFlush = undefined
      for (const [s, t] of this.tallies) this.flush(s, t.config)
    })
  }

  /** The successes counted for a service since its last report, forgotten here (0 if none). */
  take(service: string): number {
    const tally = this.tallies.get(service)
    const successes = tally?.successes ?? 0
    if (tally !== undefined) this.tallies.delete(service)
    return successes
  }

  /** Cancels a pending flush (on close: nothing is left running). */
  stop(): void {
    this.cancelFlush?.()
    this.cancelFlush = undefined
  }
}
