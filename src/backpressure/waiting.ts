import type { ExecutionContext } from '../core/context.js'
import type { QueueEntry } from '../core/wait-queue.js'

/** A call waiting for a slot. */
export interface Waiting extends QueueEntry<Waiting> {
  readonly ctx: ExecutionContext
  readonly cost: number
  /** Admits the call: the slot is already taken for it. */
  readonly admit: () => void
}
