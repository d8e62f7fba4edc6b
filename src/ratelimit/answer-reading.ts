import type { TokenUsage } from '../classify/answer-facts.js'
import { classifyError } from '../classify/classify-error.js'
import type { ProviderAnswer } from '../classify/provider-answer.js'
import { usedTokens } from './observation.js'

/** What a rate limit takes from one answer on a call's answer channel. */
export interface AnswerReading {
  readonly headers: unknown
  /** A 429 that is a rate limit (not an exhausted quota): the budget is empty until its Retry-After. */
  readonly rateLimited: boolean
  /** Tokens the request used; undefined when the answer reports no usage. */
  readonly used: number | undefined
}

const count = (x: unknown): number | undefined =>
  typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined

/**
 * Reads an answer leniently: anything may report on the channel (a caller's own code included), and
 * a field that is not what a `ProviderAnswer` says is ignored, never thrown about — the call it
 * belongs to must not fail over a report. (`observe()`, called by hand, checks strictly instead.)
 */
export function readAnswer(answer: unknown, now: number): AnswerReading | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined
  const a = answer as ProviderAnswer
  const headers = typeof a.headers === 'object' && a.headers !== null ? a.headers : undefined
  let rateLimited = false
  if (a.status === 429) {
    // The error the answer became carries its body (an exhausted quota is a 429 too, and no pause).
    const error = typeof a.error === 'object' && a.error !== null ? a.error : { status: 429, headers }
    rateLimited = classifyError(error, { now }).reason === 'rate_limited'
  }
  return { headers, rateLimited, used: usageOf(a.usage) }
}

function usageOf(u: unknown): number | undefined {
  if (typeof u !== 'object' || u === null) return undefined
  const given = u as TokenUsage
  const clean: TokenUsage = {}
  const input = count(given.inputTokens)
  const output = count(given.outputTokens)
  const total = count(given.totalTokens)
  if (input !== undefined) clean.inputTokens = input
  if (output !== undefined) clean.outputTokens = output
  if (total !== undefined) clean.totalTokens = total
  return usedTokens(clean)
}
