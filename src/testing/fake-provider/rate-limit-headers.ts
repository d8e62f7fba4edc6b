import type { Dialect } from './dialect.js'
import type { FakeBudgetState, FakeRateLimitState, OverBudget } from './rate-limits.js'

/**
 * A duration the way Go's `time.Duration.String()` prints it, which is what OpenAI sends in
 * `x-ratelimit-reset-*`: `0s`, `120ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s` (whole ms here).
 */
export function goDuration(ms: number): string {
  const d = Math.max(0, Math.ceil(ms))
  if (d === 0) return '0s'
  if (d < 1_000) return `${d}ms`
  const h = Math.floor(d / 3_600_000)
  const m = Math.floor((d % 3_600_000) / 60_000)
  const s = `${Number(((d % 60_000) / 1_000).toFixed(3))}s`
  if (h > 0) return `${h}h${m}m${s}`
  if (m > 0) return `${m}m${s}`
  return s
}

function openaiHeaders(state: FakeRateLimitState): Record<string, string> {
  const out: Record<string, string> = {}
  const put = (kind: 'requests' | 'tokens', b: FakeBudgetState | undefined): void => {
    if (b === undefined) return
    out[`x-ratelimit-limit-${kind}`] = String(b.limit)
    out[`x-ratelimit-remaining-${kind}`] = String(b.remaining)
    out[`x-ratelimit-reset-${kind}`] = goDuration(b.resetMs)
  }
  put('requests', state.requests)
  put('tokens', state.tokens)
  return out
}

/**
 * Anthropic's family; resets are RFC 3339 timestamps on the fake's clock (with milliseconds, so
 * windows of a second or less still say something). The fake has one token budget, input and
 * output counted together, so `tokens-*` (the most restrictive token limit), `input-tokens-*` and
 * `output-tokens-*` all report it: either kind of token may use all of what is left.
 */
function anthropicHeaders(state: FakeRateLimitState, now: number): Record<string, string> {
  const out: Record<string, string> = {}
  const put = (kind: string, b: FakeBudgetState | undefined): void => {
    if (b === undefined) return
    out[`anthropic-ratelimit-${kind}-limit`] = String(b.limit)
    out[`anthropic-ratelimit-${kind}-remaining`] = String(b.remaining)
    out[`anthropic-ratelimit-${kind}-reset`] = new Date(now + b.resetMs).toISOString()
  }
  put('requests', state.requests)
  put('tokens', state.tokens)
  put('input-tokens', state.tokens)
  put('output-tokens', state.tokens)
  return out
}

/** The rate-limit headers of one answer, in the family of the route's provider. */
export function rateLimitHeaders(
  provider: Dialect['provider'],
  state: FakeRateLimitState,
  now: number,
): Record<string, string> {
  return provider === 'anthropic' ? anthropicHeaders(state, now) : openaiHeaders(state)
}

/** `retry-after` (whole seconds, rounded up, as both providers send it) and `retry-after-ms`. */
export function retryAfterHeaders(over: OverBudget): Record<string, string> {
  if (over.retryAfterMs === undefined) return {}
  return {
    'retry-after': String(Math.ceil(over.retryAfterMs / 1_000)),
    'retry-after-ms': String(over.retryAfterMs),
  }
}

const OPENAI_NAMES = { requests: 'requests per min (RPM)', tokens: 'tokens per min (TPM)' }

/** The 429 body a provider sends when a budget is spent, in its own error envelope. */
export function overBudgetBody(
  dialect: Dialect,
  over: OverBudget,
  model: string,
  requestId: string,
): unknown {
  const after =
    over.retryAfterMs === undefined
      ? 'The request is larger than the limit.'
      : `Please try again in ${goDuration(over.retryAfterMs)}.`
  if (dialect.provider === 'anthropic') {
    const message =
      `This request would exceed the rate limit for your organization of ${over.max} ` +
      `${over.limit === 'tokens' ? 'tokens' : 'requests'} per window. ${after}`
    return dialect.errorBody('rate_limit_error', message, undefined, requestId)
  }
  const message =
    `Rate limit reached for ${model} on ${OPENAI_NAMES[over.limit]}: Limit ${over.max}, ` +
    `Used ${over.used}, Requested ${over.requested}. ${after}`
  // OpenAI's 429 names the budget in `type` and says `rate_limit_exceeded` in `code`.
  return dialect.errorBody(over.limit, message, 'rate_limit_exceeded', requestId)
}
