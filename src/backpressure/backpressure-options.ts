import type { Priority } from '../core/call-options.js'
import type { Clock } from '../core/clock.js'
import type { ShedReason } from '../core/errors/backpressure-shed-error.js'

/** What happens to calls that arrive while in-flight depth is at or above the soft limit. */
export type SoftAction = 'warn' | 'shed-background'

export interface BackpressureOptions {
  /**
   * Calls in flight at once. A call that finds them all taken waits in the queue (when `maxQueue`
   * allows) or is shed with reason 'hard_limit'. Required; an integer >= 1.
   */
  hardLimit: number
  /**
   * Depth from which the guard reports pressure: a call admitted while `depth >= softLimit` fires
   * `onSoftLimit`, and with `softAction: 'shed-background'` background calls are shed from here
   * on. Default: none; an integer >= 1 and < `hardLimit`.
   */
  softLimit?: number
  /**
   * Total `cost` of the calls in flight (for example estimated tokens). A call is admitted only if
   * it fits next to them; a call whose cost alone exceeds this is shed at once ('too_large').
   * Default: none; a finite number > 0.
   */
  costLimit?: number
  /**
   * Calls that may wait for a slot. 0 (the default) sheds at once when no slot is free. Waiting
   * calls are served foreground first, FIFO within a class. An integer >= 0.
   */
  maxQueue?: number
  /**
   * Longest wait in the queue, in ms; then the call is shed with 'queue_timeout'. Default: no
   * limit; a finite number > 0. Unused when `maxQueue` is 0.
   */
  queueTimeoutMs?: number
  /**
   * 'warn' (default): the soft limit only reports. 'shed-background': a background call arriving
   * while `depth >= softLimit` is shed ('soft_limit'), keeping the rest of the capacity for
   * foreground calls. Has no effect without `softLimit`.
   */
  softAction?: SoftAction
  /** Source of time for the queue timeout. Default `systemClock`. */
  clock?: Clock
  /** Service name used in events when the call names none. */
  service?: string
}

export interface SoftLimitEvent {
  /** Calls in flight when this one was admitted (not counting it). */
  depth: number
  softLimit: number
  priority: Priority
  service: string
}

export interface ShedEvent {
  reason: ShedReason
  priority: Priority
  /** Calls in flight when the call was shed. */
  depth: number
  /** The limit that applied: hard limit (or cost limit), soft limit, queue size, or cost limit. */
  capacity: number
  service: string
}
