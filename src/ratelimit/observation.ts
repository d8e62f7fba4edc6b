import type { TokenUsage } from '../classify/answer-facts.js'
import type { RateLimitHeaders, RateLimitWindow } from '../classify/rate-limit-headers.js'
import type { BudgetObservation } from './rate-limit-store.js'

/** Longest pause a single 429 imposes, unless the window is longer (a bad Retry-After cannot stop a fleet for hours). */
export const MAX_PAUSE_MS = 60_000

/**
 * What one budget kind's headers mean for our bucket. The provider refills its limit over the
 * window, so "whole again in resetMs" also says how much is left: limit − resetMs × limit / window.
 * The lower of that and `remaining` is kept, so a reset later than `remaining` implies (a fixed
 * window, a rounded remainder) tightens the budget too.
 */
function kindOf(
  w: RateLimitWindow | undefined,
  windowMs: number,
): { limit?: number; remaining?: number } | undefined {
  if (w === undefined) return undefined
  let remaining = w.remaining
  if (w.limit !== undefined && w.limit > 0 && w.resetMs !== undefined) {
    const fromReset = Math.max(0, w.limit - (w.resetMs * w.limit) / windowMs)
    remaining = Math.min(remaining ?? fromReset, fromReset)
  }
  if (w.limit === undefined && remaining === undefined) return undefined
  return { ...(w.limit !== undefined && { limit: w.limit }), ...(remaining !== undefined && { remaining }) }
}

/**
 * Anthropic's `tokens-*` headers report the most restrictive token limit; without them, input and
 * output budgets are added up, since a call's `cost` counts both.
 */
function tokenWindow(h: RateLimitHeaders): RateLimitWindow | undefined {
  if (h.tokens !== undefined) return h.tokens
  const a = h.inputTokens
  const b = h.outputTokens
  if (a === undefined || b === undefined) return a ?? b
  const sum = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined ? undefined : x + y
  const resetMs =
    a.resetMs === undefined || b.resetMs === undefined ? undefined : Math.max(a.resetMs, b.resetMs)
  const limit = sum(a.limit, b.limit)
  const remaining = sum(a.remaining, b.remaining)
  return {
    ...(limit !== undefined && { limit }),
    ...(remaining !== undefined && { remaining }),
    ...(resetMs !== undefined && { resetMs }),
  }
}

/** The observation a response's rate-limit headers make, or undefined when they say nothing usable. */
export function fromHeaders(
  h: RateLimitHeaders | undefined,
  windowMs: number,
): BudgetObservation | undefined {
  if (h === undefined) return undefined
  const requests = kindOf(h.requests, windowMs)
  const tokens = kindOf(tokenWindow(h), windowMs)
  if (requests === undefined && tokens === undefined) return undefined
  return { ...(requests && { requests }), ...(tokens && { tokens }) }
}

/**
 * A 429: both budgets are empty now, and nothing goes until its Retry-After has passed (capped at
 * the longer of the window and MAX_PAUSE_MS). The budget it was about is the one the headers show
 * exhausted (requests when they do not say).
 */
export function fromRateLimited(
  learned: BudgetObservation | undefined,
  retryAfterMs: number | undefined,
  windowMs: number,
): BudgetObservation {
  const tokensOut = learned?.tokens?.remaining === 0 && learned.requests?.remaining !== 0
  const pauseMs = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, Math.max(windowMs, MAX_PAUSE_MS))
  return {
    requests: { ...learned?.requests, remaining: 0 },
    tokens: { ...learned?.tokens, remaining: 0 },
    pauseMs,
    pauseLimit: tokensOut ? 'tokens' : 'requests',
  }
}

/** The tokens a response used, or undefined when the usage says nothing. */
export function usedTokens(u: TokenUsage): number | undefined {
  if (u.totalTokens !== undefined) return u.totalTokens
  if (u.inputTokens === undefined && u.outputTokens === undefined) return undefined
  return (u.inputTokens ?? 0) + (u.outputTokens ?? 0)
}
