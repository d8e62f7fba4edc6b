/**
 * Events are cockatiel's: an `Event<T>` is a function you call with a listener, and it returns an
 * `IDisposable` whose `dispose()` unsubscribes. They look the same to cockatiel users.
 */
import { EventEmitter as CockatielEmitter } from 'cockatiel'

export type { Event, IDisposable } from 'cockatiel'

/**
 * cockatiel's emitter, except that a listener that throws cannot break the guard that emits: a
 * metrics bug must not strand a queued call or fail a call that succeeded. The error is reported
 * as a process warning instead.
 */
export class EventEmitter<T> extends CockatielEmitter<T> {
  override emit(value: T): void {
    const listeners = this.listeners
    if (listeners === undefined) return
    if (typeof listeners === 'function') {
      callSafely(listeners, value)
      return
    }
    for (const listener of listeners) callSafely(listener, value)
  }
}

function callSafely<T>(listener: (data: T) => void, value: T): void {
  try {
    listener(value)
  } catch (error) {
    process.emitWarning(error instanceof Error ? error : new Error(String(error)), {
      type: 'BreakwaterListenerError',
      detail: 'an event listener threw; the guard carried on',
    })
  }
}
