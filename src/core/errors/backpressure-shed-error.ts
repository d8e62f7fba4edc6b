import { hasResilienceCode, ResilienceError } from './resilience-error.js'

/** Why a call was shed instead of admitted. */
export type ShedReason = 'hard_limit' | 'soft_limit' | 'queue_full' | 'queue_timeout' | 'too_large'

/** Thrown when backpressure refuses a call. The function was not called. */
export class BackpressureShedError extends ResilienceError {
  /** Calls in flight when the call was shed. */
  readonly depth: number
  /** The limit that applied (hard limit, soft limit, queue size or cost limit). */
  readonly capacity: number
  readonly reason: ShedReason

  constructor(o: { depth: number; capacity: number; reason: ShedReason }) {
    super('BREAKWATER_BACKPRESSURE_SHED', `call shed (${o.reason}): depth ${o.depth}, capacity ${o.capacity}`)
    this.depth = o.depth
    this.capacity = o.capacity
    this.reason = o.reason
  }
}

export function isBackpressureShedError(error: unknown): error is BackpressureShedError {
  return hasResilienceCode(error, 'BREAKWATER_BACKPRESSURE_SHED')
}
