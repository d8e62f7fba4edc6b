import type { Priority } from '../core/call-options.js'
import type { ExecutionContext } from '../core/context.js'

/** A call waiting for a slot. */
export interface Waiting {
  readonly ctx: ExecutionContext
  readonly cost: number
  /** The class it queued in (fixed: a later change of `ctx.priority` does not move it). */
  readonly priority: Priority
  /** Admits the call: the slot is already taken for it. */
  readonly admit: () => void
  prev: Waiting | undefined
  next: Waiting | undefined
}

/** A FIFO of waiting calls; a doubly linked list, so an aborted call leaves from anywhere in O(1). */
class Lane {
  head: Waiting | undefined = undefined
  tail: Waiting | undefined = undefined
  length = 0

  push(entry: Waiting): void {
    entry.prev = this.tail
    entry.next = undefined
    if (this.tail === undefined) this.head = entry
    else this.tail.next = entry
    this.tail = entry
    this.length++
  }

  remove(entry: Waiting): void {
    if (entry.prev === undefined) this.head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === undefined) this.tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = entry.next = undefined
    this.length--
  }
}

/** Waiting calls, foreground first, FIFO within a class. */
export class WaitQueue {
  private readonly foreground = new Lane()
  private readonly background = new Lane()

  get length(): number {
    return this.foreground.length + this.background.length
  }

  /** Waiting calls of this class or a higher one: a newcomer of `priority` must queue behind them. */
  ahead(priority: Priority): number {
    return priority === 'foreground' ? this.foreground.length : this.length
  }

  push(entry: Waiting): void {
    this.lane(entry.priority).push(entry)
  }

  /** The call that is served next, without removing it. */
  peek(): Waiting | undefined {
    return this.foreground.head ?? this.background.head
  }

  /** Removes `entry`; false when it is no longer queued (already admitted or removed). */
  remove(entry: Waiting): boolean {
    const lane = this.lane(entry.priority)
    if (entry.prev === undefined && lane.head !== entry) return false
    lane.remove(entry)
    return true
  }

  private lane(priority: Priority): Lane {
    return priority === 'foreground' ? this.foreground : this.background
  }
}
