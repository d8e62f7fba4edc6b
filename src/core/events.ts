/**
 * Events are cockatiel's: an `Event<T>` is a function you call with a listener, and it returns an
 * `IDisposable` whose `dispose()` unsubscribes. They look the same to cockatiel users.
 */
import { EventEmitter as CockatielEmitter } from 'cockatiel'
import { callListener } from './call-listener.js'

export type { Event, IDisposable } from 'cockatiel'

const GUARD_LISTENER = 'an event listener threw; the guard carried on'

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
      callListener(listeners, value, GUARD_LISTENER)
      return
    }
    for (const listener of listeners) callListener(listener, value, GUARD_LISTENER)
  }
}
