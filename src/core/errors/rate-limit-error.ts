import { hasResilienceCode, ResilienceError } from './resilience-error.js'

/** Which budget was short: requests per window or tokens per window. */
export type RateLimitKind = 'requests' | 'tokens'

/**
 * Thrown, without calling the function, when a rate limit cannot let a call through in time: the
 * service's budget would not have room for it within `maxWaitMs` (or ever, when the call's cost
 * alone exceeds the token budget). Nothing was taken from the budget.
 */
export class RateLimitError extends ResilienceError {
  readonly service: string
  /**
   * How long until the budget would have room for this call, as far as this process can tell;
   * `Infinity` when it never can (its cost exceeds the whole token budget).
   */
  readonly retryAfterMs: number
  readonly limit: RateLimitKind

  constructor(o: { service: string; retryAfterMs: number; limit: RateLimitKind }) {
    const after = Number.isFinite(o.retryAfterMs)
      ? `room in ${Math.ceil(o.retryAfterMs)} ms`
      : 'the call alone exceeds the budget'
    super(
      'BREAKWATER_RATE_LIMITED',
      `rate limit for service "${o.service}": ${o.limit} budget short (${after})`,
    )
    this.service = o.service
    this.retryAfterMs = o.retryAfterMs
    this.limit = o.limit
  }
}

export function isRateLimitError(error: unknown): error is RateLimitError {
  return hasResilienceCode(error, 'BREAKWATER_RATE_LIMITED')
}
