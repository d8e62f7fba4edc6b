import type { Health } from '../classify/classify-error.js'
import { EventEmitter, type IDisposable } from '../core/events.js'

/** A whole call through a guard has ended (for a held call, a stream: when its hold settled). */
export interface CallEndEvent {
  readonly service: string
  /**
   * How a breaker would count it: 'success'; 'failure' for an error `classifyError` counts as the
   * provider's failure; 'ignore' for the rest (a 4xx, a 429, a caller's abort, a call refused by a
   * guard without running: shed, broken circuit, rate limit).
   */
  readonly outcome: Health
  /** From `execute()` to the end of the call, hold included, in ms of real time. */
  readonly durationMs: number
  readonly error?: unknown
}

const emitters = new WeakMap<object, EventEmitter<CallEndEvent>>()
/** Guards that have at least one listener: while none has, a call does not even look one up. */
let watched = 0

/**
 * Listens to the end of every call made through `guard.execute()` (counted once per call, at the
 * guard the caller called). For metrics of compositions that have no breaker to count outcomes.
 */
export function onCallEnd(guard: object, listener: (e: CallEndEvent) => void): IDisposable {
  let emitter = emitters.get(guard)
  if (emitter === undefined) emitters.set(guard, (emitter = new EventEmitter<CallEndEvent>()))
  if (emitter.size === 0) watched++
  const subscription = emitter.addListener(listener)
  let disposed = false
  return {
    dispose() {
      if (disposed) return
      disposed = true
      subscription.dispose()
      if (emitter.size === 0) watched--
    },
  }
}

/** The emitter of `guard`'s call ends, when someone listens to them. */
export function callEndsOf(guard: object): EventEmitter<CallEndEvent> | undefined {
  if (watched === 0) return undefined
  const emitter = emitters.get(guard)
  return emitter !== undefined && emitter.size > 0 ? emitter : undefined
}
