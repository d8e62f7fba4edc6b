import { noop } from '../core/abort.js'
import type { CallContext, CallOptions } from '../core/call-options.js'

/**
 * The context of work that runs without a guard. `hold()` only observes the promise: with no guard
 * there is no slot or breaker to keep, and a rejection of it must not surface as unhandled.
 */
export function plainContext(call: CallOptions, signal: AbortSignal): CallContext {
  return {
    signal,
    service: call.service ?? 'default',
    key: call.key,
    cost: call.cost ?? 1,
    priority: call.priority ?? 'foreground',
    attempt: 1,
    hold(settled: Promise<unknown>) {
      Promise.resolve(settled).catch(noop)
    },
    touch: noop,
  }
}
