import { isAbortSignal, linkedController, noop, onAbort } from './abort.js'
import type { CallContext } from './call-options.js'
import type { ExecutionContext } from './context.js'
import type { Next } from './guard.js'

/** What a layer written outside breakwater may hand to the function it runs: anything, or nothing. */
type Given = Partial<Pick<CallContext, 'signal' | 'hold'>> | undefined

/**
 * Runs the rest of a chain inside a layer that only has an `execute(fn)` of its own (a cockatiel
 * policy, another library's guard, another copy of breakwater), so that layer can never break the
 * layers inside it (R8):
 * - `fn` may be called with no argument, or with a context that has no signal: the chain keeps the
 *   signal it had;
 * - an abort of the signal it hands out reaches the layers inside only while their work runs: a
 *   layer that aborts its signal when it returns (cockatiel's `abortOnReturn`) never cuts a stream
 *   that is still held;
 * - when it settles before the work inside has ended (an aggressive timeout), that work is recorded
 *   as left running, so slots and probe leases outside are released only when it really ends;
 * - a hold is passed back to it when it can take one, and stays visible to the layers outside.
 */
export function runInside(
  ctx: ExecutionContext,
  next: Next,
  execute: (fn: (given?: Given) => Promise<unknown>) => Promise<unknown>,
): Promise<unknown> {
  const outer = ctx.signal
  let inner: Promise<unknown> | undefined
  let innerDone = false
  // The signal the work inside runs with, while it is ours to restore.
  let mine: AbortSignal | undefined
  const restore = (): void => {
    if (mine !== undefined && ctx.signal === mine) ctx.signal = outer
    mine = undefined
  }
  const outcome = execute((given?: Given) => {
    const theirs = given?.signal
    let stopForwarding = noop
    if (isAbortSignal(theirs) && theirs !== outer) {
      const { controller, unlink } = linkedController(outer)
      const forward = onAbort(theirs, () => controller.abort(theirs.reason))
      if (theirs.aborted) controller.abort(theirs.reason)
      ctx.signal = mine = controller.signal
      stopForwarding = () => {
        forward()
        unlink()
      }
    }
    let running: Promise<unknown>
    try {
      running = next(ctx)
    } catch (error) {
      running = Promise.reject(error)
    }
    const settled = running.then(
      (value) => {
        innerDone = true
        stopForwarding()
        restore()
        const held = ctx.takeHeld()
        if (held !== undefined && typeof given?.hold === 'function') given.hold(held)
        return value
      },
      (error: unknown) => {
        innerDone = true
        stopForwarding()
        restore()
        throw error
      },
    )
    inner = settled
    return settled
  })
  const finished = (): void => {
    if (innerDone || inner === undefined) return
    // It answered while the work inside still runs: the layers outside go on with their own signal.
    ctx.abandon(inner)
    restore()
  }
  return Promise.resolve(outcome).then(
    (value) => {
      finished()
      return value
    },
    (error: unknown) => {
      finished()
      throw error
    },
  )
}
