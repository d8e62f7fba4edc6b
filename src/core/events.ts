/**
 * Events are cockatiel's: an `Event<T>` is a function you call with a listener, and it returns an
 * `IDisposable` whose `dispose()` unsubscribes. They look the same to cockatiel users.
 */
export { EventEmitter } from 'cockatiel'
export type { Event, IDisposable } from 'cockatiel'
