/** The shapes of a shared call (a flight) and its waiters, and small helpers on them. */
import type { Priority } from '../core/call-options.js'
import type { ExecutionContext } from '../core/context.js'
import { isBackpressureShedError } from '../core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import type { Next } from '../core/guard.js'

/** One caller waiting for a shared call. */
export interface Waiter {
  readonly ctx: ExecutionContext
  readonly next: Next
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  unlisten: () => void
}

/** The upstream call shared by every waiter with one key. */
export interface Flight {
  readonly key: string
  /**
   * Callers waiting through a promise of their own, insertion-ordered: the first one still here is
   * the next leader. An array rather than a Set: most flights have no waiter but their leader, and
   * leaving (an abort) is the rare path.
   */
  waiters: Waiter[]
  /**
   * The waiter whose function (and chain) the current run uses. Undefined while the flight's first
   * run is led by a caller that gave no signal (see `lead()`): that leader is not a waiter, and as
   * it cannot leave, the flight stays wanted to the end of its run.
   */
  leader: Waiter | undefined
  /**
   * Context of the current run: a context of its own, with its own signal, so no single caller's
   * context is torn down under it; or the leader's own when the leader cannot leave (`lead()`).
   * Undefined once every waiter has left (the run's late result is then dropped).
   */
  run: ExecutionContext | undefined
  /** Aborts the current run when the last waiter leaves; only made when its leader can leave. */
  controller: AbortController | undefined
}

/** Shared by flights with no waiter but their leader (most of them); replaced on the first join. */
export const NO_WAITERS: Waiter[] = Object.freeze([]) as unknown as Waiter[]

/** Rejections about this caller's admission rather than about the request itself. */
export function isLocalRejection(error: unknown): boolean {
  return isBackpressureShedError(error) || isBrokenCircuitError(error)
}

/** Runs the rest of the chain; a synchronous throw becomes a rejection. */
export function attempt(next: Next, ctx: ExecutionContext): Promise<unknown> {
  try {
    return next(ctx)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** Removes `waiter` from `waiters`; false when it was not there. */
export function removeWaiter(waiters: Waiter[], waiter: Waiter): boolean {
  const i = waiters.indexOf(waiter)
  if (i < 0) return false
  waiters.splice(i, 1)
  return true
}

/** 'foreground' when any waiter is: the run goes in at its waiters' highest priority (U3). */
export function highestPriority(waiters: readonly Waiter[]): Priority {
  for (const waiter of waiters) if (waiter.ctx.priority === 'foreground') return 'foreground'
  return 'background'
}
