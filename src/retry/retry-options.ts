import type { Clock } from '../core/clock.js'
import type { Jitter } from './backoff.js'
import type { RetryBudget } from './retry-budget.js'

export interface RetryOptions {
  /** Attempts in all, counting the first call. Required; an integer >= 1 (1 = never retry). */
  maxAttempts: number
  /** Delay before the first retry; doubles for each later one. Default 500 ms. */
  baseDelayMs?: number
  /** Cap on every delay, from backoff or Retry-After. Default and highest allowed: 60 000 ms. */
  maxDelayMs?: number
  /**
   * 'full' (default): uniform in [0, delay]; 'equal': [delay/2, delay]; 'none' (also no spread of
   * Retry-After waits). Never above the cap.
   */
  jitter?: Jitter
  /** Which errors to retry. Default: `classifyError(err).retryable`. */
  retryOn?: (error: unknown) => boolean
  /**
   * Retries a successful but unusable result (empty completion, truncated output, invalid JSON).
   * It is not a failure: after the last attempt the last result is returned. Default: none.
   */
  retryOnResult?: (value: unknown) => boolean
  /**
   * Waits what the provider asked for (retry-after-ms, retry-after) instead of the backoff, when
   * it is within `maxDelayMs`; a longer request makes the guard give up at once. The wait is never
   * shortened, and spread up to 10 % (at most 1 s) later unless `jitter` is 'none'. Default true.
   */
  honorRetryAfter?: boolean
  /** Shared budget that caps retries as a share of calls (see `retryBudget`). Default: none. */
  budget?: RetryBudget
  /** Source of time for sleeps and HTTP-date Retry-After. Default `systemClock`. */
  clock?: Clock
  /**
   * Source of randomness for jitter and for the spread of Retry-After waits, in [0, 1) (checked on
   * every call: anything else is a TypeError). Default `Math.random`.
   */
  random?: () => number
  /** Service name used in events when the call names none. */
  service?: string
}

/** Why the retry guard stopped retrying and let the error (or result) through. */
export type GiveUpCause =
  'not_retryable' | 'max_attempts' | 'retry_after_too_long' | 'deadline' | 'budget_exhausted'

export interface RetryEvent {
  /** The attempt that just failed (1 = the first call). */
  attempt: number
  /** How long the guard waits before the next attempt. */
  delayMs: number
  /** The error, or undefined when a result was rejected by `retryOnResult`. */
  error: unknown
  service: string
  /** `classifyError(error).reason`, or 'result' for a rejected result. Bounded: safe as a label. */
  reason: string
}

export interface CooldownWaitEvent {
  /** The attempt that was refused by the cooldown; it runs again after the wait. */
  attempt: number
  /** How long the guard waits: the cooldown's time left, spread a little later. */
  delayMs: number
  service: string
}

export interface GiveUpEvent {
  attempt: number
  error: unknown
  service: string
  reason: string
  stoppedBy: GiveUpCause
}
