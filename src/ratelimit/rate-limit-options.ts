import type { Priority } from '../core/call-options.js'
import type { Clock } from '../core/clock.js'
import type { RateLimitKind } from '../core/errors/rate-limit-error.js'
import type { TokenUsage } from '../classify/answer-facts.js'
import type { RateLimitStore } from './rate-limit-store.js'

export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000
export const DEFAULT_MAX_WAIT_MS = 60_000

export interface RateLimitOptions {
  /** The service this guard limits when a call names none (the call's `service` wins). Default 'default'. */
  service?: string
  /**
   * Requests per window for each service. A call takes 1. The budget refills continuously
   * (`requests` per `windowMs`) and holds at most `requests`, as the providers' RPM does. Default:
   * none configured — the limit a provider reports (learnFromHeaders) applies, else none. A finite
   * number > 0. A learned limit below it wins.
   */
  requests?: number
  /**
   * Tokens per window for each service. A call takes its `cost` (the provider wrappers set it to the
   * request's estimated input tokens + its output allowance) and is settled to the usage its answer
   * reports on the call's answer channel (the wrappers report every answer there, a stream's at its
   * end): the difference goes back to the budget, or is taken from it. Same refill, default and
   * interplay with learned limits as `requests`.
   */
  tokens?: number
  /**
   * The window the limits are per, in ms: the provider's (60 000 for RPM / TPM). Learned limits
   * and resets are read against it. A finite number > 0. Default 60 000.
   */
  windowMs?: number
  /**
   * Read the providers' rate-limit headers (of the answers reported on the call's answer channel,
   * of errors passing through, and given to `observe`):
   * their limit lowers a configured one, their remaining budget and reset tighten the shared budget
   * at once. Default true. When false, only the configured limits apply (and a 429 still pauses the
   * budget for its Retry-After). Either `requests`, `tokens` or this must be set.
   */
  learnFromHeaders?: boolean
  /**
   * Longest a call waits for budget, in ms; a call that cannot get it in time fails at once with
   * RateLimitError (nothing taken). 0: never wait. A number >= 0. Default 60 000.
   */
  maxWaitMs?: number
  /**
   * Where budgets live. Guards given the same store share each service's budget; a
   * `RedisRateLimitStore` shares it across a fleet. Default: a new `InMemoryRateLimitStore({ clock })`.
   */
  store?: RateLimitStore
  /** Source of time for waits and leases. Default `systemClock`. */
  clock?: Clock
}

/** What `observe()` is told about a response. */
export interface RateLimitObservation {
  /** The response's headers (fetch `Headers`, a `Map` or a plain object): rate-limit headers are learned. */
  headers?: unknown
  /** The HTTP status; 429 empties the budget until its Retry-After. */
  status?: number
  /** The tokens the call used (streams: the final usage event). */
  usage?: TokenUsage
  /**
   * The tokens this call took from the budget: its `cost` (`ctx.cost`). The budget is settled to
   * the usage: the difference goes back, or is taken. Default 0: the whole usage is taken (a call
   * that did not go through this guard).
   */
  reserved?: number
}

/** A call that waited for budget, once it goes. */
export interface RateLimitWaitEvent {
  service: string
  waitMs: number
  priority: Priority
  /** The budget it waited for (the one that was short when it asked). */
  limit: RateLimitKind
}

/** A call refused with RateLimitError. */
export interface RateLimitedEvent {
  service: string
  limit: RateLimitKind
  retryAfterMs: number
  priority: Priority
}

/** What `remaining()` answers: the budget left to this process now (undefined: no limit). */
export interface RateLimitRemaining {
  requests?: number
  tokens?: number
  /** How long until every limited budget is whole again (a 429's pause included). */
  resetMs: number
}
