import { callListener } from '../core/call-listener.js'
import type { TokenUsage } from '../classify/answer-facts.js'
import type { ProviderAnswer } from '../classify/provider-answer.js'

/**
 * One finished answer of a provider, as the transport of a wrapped client reports it: on the call's
 * answer channel (`reportAnswer`, where a rate limit in the guard settles tokens and learns the
 * rate-limit headers, and tracing adds the GenAI attributes), and to the `onResponse` option
 * (metrics: tokens, time to first token).
 */
export interface ProviderResponse extends ProviderAnswer {
  /** The service the call ran as: `openai:<model>`, `anthropic:<model>`, or the provider alone. */
  readonly service: string
  /** `gen_ai.provider.name`: 'openai' or 'anthropic'. */
  readonly provider: string
  /** `gen_ai.request.model`: the model asked for (a fallback model when one answered). */
  readonly model: string | undefined
  /** `gen_ai.response.model`: the model the answer names. */
  readonly responseModel: string | undefined
  /** `gen_ai.operation.name`: 'chat', 'embeddings', 'text_completion', 'count_tokens', 'batches', … */
  readonly operation: string
  /** The HTTP status. */
  readonly status: number
  /** The answer's headers (rate-limit headers, Retry-After, request id). */
  readonly headers: Headers
  /** Tokens used, from the body or, for a stream, its final usage event; undefined when not reported. */
  readonly usage: TokenUsage | undefined
  /** From sending the request to the first content event (a stream) or the whole body; ms on the wrapper's clock. */
  readonly timeToFirstContentMs: number | undefined
  /** From sending the request to the end of the answer (a stream's last event), ms. */
  readonly durationMs: number
  readonly stream: boolean
  /** Which attempt of the call this was (1-based). */
  readonly attempt: number
  /**
   * Set when the answer is a failure: the error an HTTP error status becomes (what the guards
   * classify and retry), or a stream's error event — before its content (retried) or after it (the
   * caller saw the failure).
   */
  readonly error?: unknown
}

/** Hands a report to the listener of option `option`; a listener that throws becomes a process warning. */
export function report<T>(listener: ((value: T) => void) | undefined, value: T, option = 'onResponse'): void {
  if (listener !== undefined)
    callListener(listener, value, `an ${option} listener threw; the call carried on`)
}
