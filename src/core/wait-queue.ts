import type { Priority } from './call-options.js'

/** Something that waits in a `WaitQueue`: its class, and the links the queue keeps in it. */
export interface QueueEntry<E> {
  /** The class it queued in (fixed: a later change of `ctx.priority` does not move it). */
  readonly priority: Priority
  prev: E | undefined
  next: E | undefined
}

/** A FIFO of waiting entries; a doubly linked list, so an aborted one leaves from anywhere in O(1). */
class Lane<E extends QueueEntry<E>> {
  head: E | undefined = undefined
  tail: E | undefined = undefined
  length = 0

  push(entry: E): void {
    entry.prev = this.tail
    entry.next = undefined
    if (this.tail === undefined) this.head = entry
    else this.tail.next = entry
    this.tail = entry
    this.length++
  }

  remove(entry: E): void {
    if (entry.prev === undefined) this.head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === undefined) this.tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = entry.next = undefined
    this.length--
  }
}

/**
 * Waiting entries, foreground first, FIFO within a class. The links live in the entries, so
 * queueing allocates nothing beyond the entry itself.
 */
export class WaitQueue<E extends QueueEntry<E>> {
  private readonly foreground = new Lane<E>()
  private readonly background = new Lane<E>()

  get length(): number {
    return this.foreground.length + this.background.length
  }

  /** Entries of this class or a higher one: a newcomer of `priority` must queue behind them. */
  ahead(priority: Priority): number {
    return priority === 'foreground' ? this.foreground.length : this.length
  }

  push(entry: E): void {
    this.lane(entry.priority).push(entry)
  }

  /** The entry served next, without removing it. */
  peek(): E | undefined {
    return this.foreground.head ?? this.background.head
  }

  /** Removes `entry`; false when it is no longer queued (already served or removed). */
  remove(entry: E): boolean {
    const lane = this.lane(entry.priority)
    if (entry.prev === undefined && lane.head !== entry) return false
    lane.remove(entry)
    return true
  }

  private lane(priority: Priority): Lane<E> {
    return priority === 'foreground' ? this.foreground : this.background
  }
}
