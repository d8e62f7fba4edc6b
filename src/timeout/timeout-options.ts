import type { Clock } from '../core/clock.js'

export interface TimeoutOptions {
  /**
   * Bounds each attempt, until `fn` returns (for a stream: until it hands the stream over). When it
   * runs out, `ctx.signal` aborts with `TimeoutError('attempt')`, which is retryable, and the attempt
   * rejects with it at once even if `fn` ignores the signal. Default: none.
   */
  attemptMs?: number
  /**
   * Bounds the whole call: in a composition it starts when the call enters the chain, so time
   * queued before the first attempt, every attempt, every retry sleep and a held stream until it
   * ends all count. When it runs out, the call rejects with `TimeoutError('total')`, which is not
   * retryable; a retry guard outside gives up instead of sleeping past it. Default: none.
   */
  totalMs?: number
  /**
   * Bounds the gap between chunks of a held call (a stream): each `ctx.touch()` restarts it. When it
   * runs out, `ctx.signal` aborts with `TimeoutError('idle')`. Default: none.
   */
  idleMs?: number
  /** Source of time. Default `systemClock`. */
  clock?: Clock
}
