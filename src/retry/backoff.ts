import { optionalNumber, requireNumber } from '../core/validate.js'

/** No delay before a retry, from backoff or from a provider's Retry-After, ever exceeds this. */
export const MAX_RETRY_DELAY_MS = 60_000
/** Default delay before the first retry. */
export const DEFAULT_BASE_DELAY_MS = 500

/**
 * A wait the provider asked for is spread up to this share of it later (never earlier), so the
 * callers told the same Retry-After do not all arrive in the same millisecond…
 */
export const RETRY_AFTER_SPREAD_RATIO = 0.1
/** …and never more than this much later. */
export const RETRY_AFTER_SPREAD_MAX_MS = 1_000

export type Jitter = 'full' | 'equal' | 'none'

/**
 * Delay before retry `attempt` (1-based): `baseDelayMs · 2^(attempt-1)`, capped at `maxDelayMs`
 * (default 60 000, which is also the highest cap allowed).
 */
export function backoffDelay(
  attempt: number,
  options: { baseDelayMs?: number; maxDelayMs?: number } = {},
): number {
  requireNumber('backoffDelay', 'attempt', attempt, { integer: true, min: 1 })
  const base = optionalNumber('backoffDelay', 'baseDelayMs', options.baseDelayMs, DEFAULT_BASE_DELAY_MS, {
    min: 0,
  })
  const cap = optionalNumber('backoffDelay', 'maxDelayMs', options.maxDelayMs, MAX_RETRY_DELAY_MS, {
    min: 0,
    max: MAX_RETRY_DELAY_MS,
  })
  return cappedDelay(attempt, base, cap)
}

/** The unchecked core of `backoffDelay`, for the retry loop. */
export function cappedDelay(attempt: number, base: number, cap: number): number {
  // 2^1024 is Infinity, and Math.min handles it: no overflow for very late attempts.
  return Math.min(base * 2 ** (attempt - 1), cap)
}

/** Spreads a delay so a fleet's retries do not line up. Never exceeds `delay`. */
export function applyJitter(delay: number, jitter: Jitter, random: () => number): number {
  if (jitter === 'none') return delay
  const r = Math.min(Math.max(random(), 0), 1)
  return jitter === 'full' ? delay * r : delay / 2 + (delay / 2) * r
}
