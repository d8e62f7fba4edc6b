import type { TokenUsage } from './answer-facts.js'

/**
 * What an LLM provider answered one request, as reporters put it on a call's answer channel
 * (`reportAnswer(ctx, answer)`): the provider wrappers' transport for every HTTP answer (a stream's
 * once it ends, with its final usage), the AI SDK middleware for every model result, or a caller's
 * own code around another client. Every field is optional: listeners read what is there.
 *
 * Who listens: a `rateLimitGuard` in the chain learns the rate-limit headers and 429s and settles
 * the call's token reservation to `usage`; tracing adds the GenAI attributes to the call's span.
 */
export interface ProviderAnswer {
  /** The HTTP status. */
  readonly status?: number
  /** The answer's headers (fetch `Headers`, a `Map` or a plain object): rate-limit headers, Retry-After. */
  readonly headers?: unknown
  /** Tokens the request used, as the provider counted them (a stream: its final usage event). */
  readonly usage?: TokenUsage
  /** `gen_ai.provider.name`: 'openai', 'anthropic'. */
  readonly provider?: string
  /** `gen_ai.operation.name`: 'chat', 'embeddings', 'text_completion', … */
  readonly operation?: string
  /** `gen_ai.request.model`: the model asked for. */
  readonly model?: string
  /** `gen_ai.response.model`: the model the answer names. */
  readonly responseModel?: string
  /**
   * The failure the answer stands for, when it is one: the error an HTTP error status becomes, an
   * error event in a stream (before or after its content began).
   */
  readonly error?: unknown
}
