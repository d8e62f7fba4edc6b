import type { Clock } from '../../core/clock.js'
import { embeddingTokens } from './embeddings-api.js'
import type { StatusFault } from './faults.js'
import { tokens } from './incoming.js'
import { overBudgetBody, rateLimitHeaders, retryAfterHeaders } from './rate-limit-headers.js'
import type { OverBudget, RateLimiter } from './rate-limits.js'
import type { Route } from './routes.js'

/** What the budgets say about one request, and the hooks its answer uses. */
export interface Admission {
  /** Set when the request is over budget: it is answered 429 and nothing else happens. */
  readonly over: OverBudget | undefined
  /** The rate-limit headers an answer written now carries ({} without limits). */
  headers(): Record<string, string>
  /** Takes output tokens the answer produced (only on the routes that are charged). */
  takeOutput(tokens: number): void
  /** Gives back what the request took: an injected 429 answered it, so it was not served. */
  refund(): void
  /** The 429 a request over budget is answered with, in its provider's shape. */
  overBudgetFault(model: string, requestId: string): StatusFault
}

const NO_LIMITS: Admission = {
  over: undefined,
  headers: () => ({}),
  takeOutput: () => {},
  refund: () => {},
  overBudgetFault: () => {
    throw new Error('fake provider: no budget is over without limits')
  },
}

/** The input tokens a request's usage will report: what its admission needs of the token budget. */
function inputTokens(route: Route, body: Record<string, unknown>): number {
  return route.api === 'openai-embeddings' ? embeddingTokens(body) : tokens(route.dialect.inputText(body).all)
}

/**
 * Admits one request against its API key's budgets. Generation routes and embeddings are charged
 * (1 request, the input tokens now, output tokens as they are sent); other routes only report the
 * budgets; a request that is not served (`served: false`: a 400, a 404) takes nothing.
 */
export function admission(
  limiter: RateLimiter | undefined,
  r: {
    route: Route | undefined
    body: Record<string, unknown>
    served: boolean
    apiKey?: string
    clock: Clock
  },
): Admission {
  const { route, apiKey, clock } = r
  if (limiter === undefined || route === undefined) return NO_LIMITS
  const charged = r.served && (route.generation || route.api === 'openai-embeddings')
  const input = charged ? inputTokens(route, r.body) : 0
  const over = charged ? limiter.admit(apiKey, input, clock.now()) : undefined
  const taken = charged && over === undefined
  let refunded = false
  return {
    over,
    headers: () => {
      const now = clock.now()
      return rateLimitHeaders(route.dialect.provider, limiter.state(apiKey, now), now)
    },
    takeOutput: (n) => {
      if (taken && !refunded) limiter.takeOutput(apiKey, n, clock.now())
    },
    refund: () => {
      if (!taken || refunded) return
      refunded = true
      limiter.refund(apiKey, input, clock.now())
    },
    overBudgetFault: (model, requestId) => ({
      kind: 'status',
      status: 429,
      body: overBudgetBody(route.dialect, over!, model, requestId),
      headers: retryAfterHeaders(over!),
    }),
  }
}
