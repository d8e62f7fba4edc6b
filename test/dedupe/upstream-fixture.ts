import type { CallContext } from '../../src/core/call-options.js'
import { deferred } from '../helpers/deferred.js'

/** Records the context each upstream call ran with and lets the test settle it. */
export function upstream<T>() {
  const calls: { ctx: CallContext; done: ReturnType<typeof deferred<T>> }[] = []
  const fn = (ctx: CallContext): Promise<T> => {
    const done = deferred<T>()
    calls.push({ ctx, done })
    return done.promise
  }
  return { calls, fn }
}
