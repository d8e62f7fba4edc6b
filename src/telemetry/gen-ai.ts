import type { CallContext } from '../core/call-options.js'
import { type CallTrace, callTraceOf } from './call-trace.js'

/**
 * What a provider's answer says, as the wrappers' transport reports it (a `ProviderAnswer`, the
 * `onResponse` report's shape).
 */
export interface GenAiResponse {
  /** `gen_ai.provider.name`: 'openai', 'anthropic'. */
  readonly provider?: string
  /** `gen_ai.operation.name`: 'chat', 'embeddings', 'text_completion', … */
  readonly operation?: string
  /** `gen_ai.request.model` */
  readonly model?: string
  /** `gen_ai.response.model` */
  readonly responseModel?: string
  readonly usage?: { readonly inputTokens?: number; readonly outputTokens?: number }
}

/**
 * Adds the GenAI attributes of an answer (OpenTelemetry GenAI semantic conventions) to the span of
 * the guarded call it belongs to: `ctx` is the context the call's `fn` was given (it finds the span
 * even when a stream's end is reported outside the call's async context); without it, the active
 * call's span. Token counts add up over the call's attempts; models and names are the last
 * answer's. Does nothing when the call is not traced or its span has ended (report before the hold
 * settles). A traced call hears the answers reported on its answer channel by itself (the provider
 * wrappers report every answer there, and so may a caller's own code with `reportAnswer`): call
 * this only for answers that are not reported there, or they count twice.
 */
export function traceGenAi(ctx: CallContext | undefined, response: GenAiResponse): void {
  const call = callTraceOf(ctx)
  if (call !== undefined) addGenAi(call, response)
}

/** Adds the GenAI attributes of `response` to the span of `call` (see `traceGenAi`). */
export function addGenAi(call: CallTrace, response: GenAiResponse): void {
  if (call.ended || typeof response !== 'object' || response === null) return
  const attributes: Record<string, string | number> = {}
  if (typeof response.operation === 'string') attributes['gen_ai.operation.name'] = response.operation
  if (typeof response.provider === 'string') attributes['gen_ai.provider.name'] = response.provider
  if (typeof response.model === 'string') attributes['gen_ai.request.model'] = response.model
  if (typeof response.responseModel === 'string') attributes['gen_ai.response.model'] = response.responseModel
  const input = count(response.usage?.inputTokens)
  const output = count(response.usage?.outputTokens)
  if (input !== undefined)
    attributes['gen_ai.usage.input_tokens'] = call.inputTokens = (call.inputTokens ?? 0) + input
  if (output !== undefined) {
    attributes['gen_ai.usage.output_tokens'] = call.outputTokens = (call.outputTokens ?? 0) + output
  }
  call.set(attributes)
}

function count(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined
}
