import { abortReason, NEVER_ABORTED, raceAbort } from './abort.js'
import type { CallContext, CallOptions } from './call-options.js'
import { callFn, ExecutionContext } from './context.js'
import { isObserved, observeCall } from '../telemetry/call-watch.js'

/** A step of a chain: runs the rest of the chain with the shared context. */
export type Next = (ctx: ExecutionContext) => Promise<unknown>

/** The symbol under which breakwater's guards expose their chain step to `compose()`. */
export const RUN: unique symbol = Symbol('breakwater.run')

/** Wraps a call with resilience behaviour. */
export interface Guard {
  readonly name: string
  execute<T>(fn: (ctx: CallContext) => Promise<T> | T, call?: CallOptions): Promise<T>
}

/** A guard that can run as one layer of a composed chain, sharing the caller's context. */
export interface ChainableGuard extends Guard {
  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown>
  /** True when the guard may `ctx.defer()` work to the end of the call (a total timeout). */
  readonly defersCleanup?: boolean
}

export function isChainable(guard: Guard): guard is ChainableGuard {
  return typeof (guard as Partial<ChainableGuard>)[RUN] === 'function'
}

/**
 * Base of breakwater's guards: `execute()` builds the context once and runs the guard's step with
 * the user's function as the rest of the chain.
 */
export abstract class GuardBase implements ChainableGuard {
  abstract readonly name: string

  /** Overridden by guards that `ctx.defer()`: only their calls pay for the end-of-call hook. */
  get defersCleanup(): boolean {
    return false
  }

  abstract [RUN](next: Next, ctx: ExecutionContext): Promise<unknown>

  execute<T>(fn: (ctx: CallContext) => Promise<T> | T, call?: CallOptions): Promise<T> {
    return runCall(this, fn, call) as Promise<T>
  }
}

/**
 * Runs one call through `guard`. The one telemetry hook: while no tracer provider is registered and
 * nobody counts this guard's calls, `isObserved` is a few property reads (src/telemetry/).
 */
export function runCall(
  guard: ChainableGuard,
  fn: (ctx: CallContext) => unknown,
  call: CallOptions | undefined,
): Promise<unknown> {
  return isObserved(guard) ? observeCall(guard, fn, call, runChain) : runChain(guard, fn, call)
}

/** Runs one call's chain: validates the options, honours an already-aborted signal, cleans up. */
function runChain(
  guard: ChainableGuard,
  fn: (ctx: CallContext) => unknown,
  call: CallOptions | undefined,
): Promise<unknown> {
  let ctx: ExecutionContext
  try {
    if (typeof fn !== 'function')
      throw new TypeError(`${guard.name}.execute: fn must be a function, got ${typeof fn}`)
    ctx = new ExecutionContext(fn, call)
  } catch (error) {
    return Promise.reject(error)
  }
  const signal = ctx.signal
  // The shared never-aborted signal needs no check (reading `aborted` is not free on the hot path).
  if (signal !== NEVER_ABORTED && signal.aborted) return Promise.reject(abortReason(signal))
  let result: Promise<unknown>
  try {
    result = guard[RUN](callFn, ctx)
  } catch (error) {
    result = Promise.reject(error)
  }
  if (guard.defersCleanup === true) result = finishWhenSettled(ctx, result)
  // Wherever the call is (queued, sleeping, probing, running an fn that ignores its signal), the
  // caller's abort rejects it at once. Slots are still released only when the work really ends.
  return signal === NEVER_ABORTED ? result : raceAbort(result, signal)
}

/** Runs the context's deferred cleanups after the call settles. */
async function finishWhenSettled(ctx: ExecutionContext, result: Promise<unknown>): Promise<unknown> {
  let failed = true
  try {
    const value = await result
    failed = false
    return value
  } finally {
    if (ctx.hasCleanups) ctx.finish(failed)
  }
}
