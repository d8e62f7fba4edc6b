import { headerValue } from './retry-after.js'

/** What a provider reports about one of its budgets on a response. */
export interface RateLimitWindow {
  /** The budget per window (`…-limit`). */
  readonly limit?: number
  /** What is left of it now (`…-remaining`). */
  readonly remaining?: number
  /** How long until the budget is whole again (`…-reset`), in ms from now. */
  readonly resetMs?: number
}

/** The rate-limit headers of one response, per budget. */
export interface RateLimitHeaders {
  /** Whose header family they came from. */
  readonly provider: 'openai' | 'anthropic'
  readonly requests?: RateLimitWindow
  /**
   * Tokens. OpenAI: `x-ratelimit-*-tokens`. Anthropic: `anthropic-ratelimit-tokens-*`, which
   * reports the most restrictive token limit in effect.
   */
  readonly tokens?: RateLimitWindow
  /** Anthropic only: input tokens per window (`anthropic-ratelimit-input-tokens-*`). */
  readonly inputTokens?: RateLimitWindow
  /** Anthropic only: output tokens per window (`anthropic-ratelimit-output-tokens-*`). */
  readonly outputTokens?: RateLimitWindow
}

const GO_UNITS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  μs: 0.001,
  ns: 0.000_001,
}
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns))+$/
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/g

/**
 * A Go-style duration as OpenAI sends it (`6m0s`, `1s`, `120ms`, `1m30.5s`, `2h`), in ms. A bare
 * number is read as seconds. Undefined for anything else (negative, empty, garbage).
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  if (t === '') return undefined
  if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t) * 1_000
  if (!GO_DURATION.test(t)) return undefined
  let ms = 0
  for (const [, amount, unit] of t.matchAll(GO_PART)) ms += Number(amount) * GO_UNITS[unit!]!
  return ms
}

/** A reset as a wait from `now`: an RFC 3339 timestamp (Anthropic), or a duration (OpenAI). */
function resetOf(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined
  const duration = parseDuration(text)
  if (duration !== undefined) return duration
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined
  const n = Number(text)
  return Number.isFinite(n) && n >= 0 ? n : undefined
}

function windowOf(
  headers: unknown,
  names: { limit: string; remaining: string; reset: string },
  now: number,
): RateLimitWindow | undefined {
  const limit = count(headerValue(headers, names.limit))
  const remaining = count(headerValue(headers, names.remaining))
  const resetMs = resetOf(headerValue(headers, names.reset), now)
  if (limit === undefined && remaining === undefined && resetMs === undefined) return undefined
  return {
    ...(limit !== undefined && { limit }),
    ...(remaining !== undefined && { remaining }),
    ...(resetMs !== undefined && { resetMs }),
  }
}

const openai = (budget: string) => ({
  limit: `x-ratelimit-limit-${budget}`,
  remaining: `x-ratelimit-remaining-${budget}`,
  reset: `x-ratelimit-reset-${budget}`,
})
const anthropic = (budget: string) => ({
  limit: `anthropic-ratelimit-${budget}-limit`,
  remaining: `anthropic-ratelimit-${budget}-remaining`,
  reset: `anthropic-ratelimit-${budget}-reset`,
})

/**
 * Reads a response's rate-limit headers (L3): OpenAI's `x-ratelimit-{limit,remaining,reset}-
 * {requests,tokens}` (resets as Go durations) or Anthropic's `anthropic-ratelimit-{requests,tokens,
 * input-tokens,output-tokens}-{limit,remaining,reset}` (resets as RFC 3339 timestamps, turned into a
 * wait from `now`). Headers may be a fetch `Headers`, a `Map` or a plain object. Undefined when the
 * response carries none; values that do not parse are left out.
 */
export function parseRateLimitHeaders(
  headers: unknown,
  now: number = Date.now(),
): RateLimitHeaders | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const requests = windowOf(headers, anthropic('requests'), now)
  const tokens = windowOf(headers, anthropic('tokens'), now)
  const inputTokens = windowOf(headers, anthropic('input-tokens'), now)
  const outputTokens = windowOf(headers, anthropic('output-tokens'), now)
  if (requests || tokens || inputTokens || outputTokens) {
    return {
      provider: 'anthropic',
      ...(requests && { requests }),
      ...(tokens && { tokens }),
      ...(inputTokens && { inputTokens }),
      ...(outputTokens && { outputTokens }),
    }
  }
  const r = windowOf(headers, openai('requests'), now)
  const t = windowOf(headers, openai('tokens'), now)
  if (!r && !t) return undefined
  return { provider: 'openai', ...(r && { requests: r }), ...(t && { tokens: t }) }
}
