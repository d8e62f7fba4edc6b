import { reportAnswer } from '../core/answer-channel.js'
import type { CallContext, Priority } from '../core/call-options.js'
import type { Guard } from '../core/guard.js'
import { optionalFunction, requireOptions } from '../core/validate.js'
import { errorAnswer, generateAnswer, StreamAnswer } from './ai-answer.js'
import { heldIterator, readToContent, surfaced } from './guarded-stream.js'
import type { ProviderCallOptions } from './provider-options.js'
import { estimateRequestCost } from './request-cost.js'
import { serviceName, upstreamProvider } from './service-name.js'

const OWNER = 'guardMiddleware'

/** The parts of an AI SDK language model the middleware uses. */
export interface GuardedModel {
  readonly provider: string
  readonly modelId: string
  doGenerate(params: any): PromiseLike<any>
  doStream(params: any): PromiseLike<{ stream: ReadableStream<any> }>
}

/** The parts of the AI SDK's call parameters the middleware uses. */
export interface GuardedParams {
  abortSignal?: AbortSignal
  /** `providerOptions.breakwater` carries per-call options: `{ priority, cost, key }`. */
  providerOptions?: Record<string, unknown>
}

export interface GuardMiddlewareOptions {
  /**
   * The service a call acts for. Default: the upstream provider and the model, `openai:<modelId>`
   * for `@ai-sdk/openai` (`openai.chat`, `openai.responses`, …) and `anthropic:<modelId>` for
   * `@ai-sdk/anthropic` (`anthropic.messages`) — the names `wrapOpenAI` / `wrapAnthropic` use, so
   * mixed code shares one breaker per model (see `serviceName`).
   */
  service?: (model: GuardedModel) => string
  /**
   * Dedupe key of a non-streaming call. Default: none (the model object does not reveal whose
   * credentials it uses, so no key is safe to derive); `providerOptions.breakwater.key` sets one per call.
   */
  key?: (params: GuardedParams, model: GuardedModel) => string | undefined
}

/** An AI SDK `LanguageModelMiddleware` (v4 specification) that runs model calls through a guard. */
export interface GuardLanguageModelMiddleware {
  readonly specificationVersion: 'v4'
  wrapGenerate(options: { doGenerate: () => PromiseLike<any>; params: any; model: any }): Promise<any>
  wrapStream(options: { doStream: () => PromiseLike<any>; params: any; model: any }): Promise<any>
}

/**
 * Stream parts before the first content: metadata and block openings. `custom` is what
 * `@ai-sdk/anthropic` emits for `message_start`.
 */
const OPENING = new Set([
  'stream-start',
  'response-metadata',
  'text-start',
  'reasoning-start',
  'raw',
  'ping',
  'custom',
])
const isContent = (part: { type?: string }): boolean => !OPENING.has(part?.type ?? '')
/** Providers report failures inside a stream as `{ type: 'error', error }` parts. */
const errorOf = (part: { type?: string; error?: unknown }): unknown =>
  part?.type === 'error' ? (part.error ?? new Error('stream error part')) : undefined

/**
 * AI SDK middleware: `wrapLanguageModel({ model, middleware: guardMiddleware(guard) })`. Each
 * generate or stream call runs through `guard` with the call's `abortSignal`; the model gets the
 * guard's signal. A stream is returned after its first content part (errors before it — including
 * `error` parts — are retried by the guard) and the call is held until the stream ends. Every
 * answer is reported on the call's answer channel (`reportAnswer`): a result's usage and response
 * headers, a stream's at its end with the `finish` part's usage, an `APICallError`'s status and
 * headers — so a rate limit in the guard settles the call's tokens and learns the headers, and the
 * call's span gets its GenAI attributes. Set the AI SDK's own `maxRetries: 0`, or its retries
 * multiply ours.
 */
export function guardMiddleware(
  guard: Guard,
  options?: GuardMiddlewareOptions,
): GuardLanguageModelMiddleware {
  if (typeof (guard as Partial<Guard> | null)?.execute !== 'function') {
    throw new TypeError(`${OWNER}: guard must be a Guard (an object with execute), got ${String(guard)}`)
  }
  const o = requireOptions<GuardMiddlewareOptions>(OWNER, options, true)
  const serviceOf = optionalFunction<(m: GuardedModel) => string>(OWNER, 'service', o.service)
  const keyOf = optionalFunction<NonNullable<GuardMiddlewareOptions['key']>>(OWNER, 'key', o.key)

  const callOptions = (params: GuardedParams, model: GuardedModel, keyed: boolean) => {
    const own = params.providerOptions?.breakwater as ProviderCallOptions | undefined
    let key: string | undefined
    if (keyed && own?.key !== false) key = typeof own?.key === 'string' ? own.key : keyOf?.(params, model)
    return {
      service: serviceOf ? serviceOf(model) : serviceName(upstreamProvider(model.provider), model.modelId),
      key,
      cost: own?.cost ?? paramsCost(params),
      priority: own?.priority as Priority | undefined,
      signal: params.abortSignal,
    }
  }

  return {
    specificationVersion: 'v4',
    wrapGenerate({ params, model }) {
      const m = model as GuardedModel
      return guard.execute(
        async (ctx) => {
          const signal = ctx.signal
          let result: unknown
          try {
            result = await m.doGenerate({ ...params, abortSignal: signal })
          } catch (error) {
            const answer = errorAnswer(m, error)
            if (answer !== undefined) reportAnswer(ctx, answer)
            throw surfaced(error, signal)
          }
          reportAnswer(ctx, generateAnswer(m, result))
          return result
        },
        callOptions(params as GuardedParams, m, true),
      )
    },
    wrapStream({ params, model }) {
      const m = model as GuardedModel
      return guard.execute(
        (ctx) => openStream(m, params, ctx),
        callOptions(params as GuardedParams, m, false),
      )
    },
  }
}

/**
 * The tokens a model call is expected to use, as the wrappers estimate a request (L4): its prompt
 * and tools, plus `maxOutputTokens` (else the default output estimate). A rate limit settles it to
 * the usage the answer reports.
 */
function paramsCost(params: GuardedParams): number | undefined {
  const p = params as { prompt?: unknown; tools?: unknown; maxOutputTokens?: unknown }
  return estimateRequestCost({ prompt: p.prompt, tools: p.tools, max_tokens: p.maxOutputTokens }, 'chat')
}

async function openStream(model: GuardedModel, params: object, ctx: CallContext): Promise<unknown> {
  const signal = ctx.signal
  let unreported: StreamAnswer | undefined
  try {
    const result = await model.doStream({ ...params, abortSignal: signal })
    const reported = new StreamAnswer(
      model,
      (result as { response?: { headers?: unknown } }).response?.headers,
    )
    unreported = reported
    const reader = result.stream.getReader()
    const source: AsyncIterator<any> = {
      next: () => reader.read() as Promise<IteratorResult<any>>,
      return: async () => {
        await reader.cancel()
        return { value: undefined, done: true }
      },
    }
    const head = await readToContent(source, signal, isContent, errorOf)
    for (const part of head.buffered) reported.see(part)
    unreported = undefined // from here on the held stream reports its answer when it ends
    const rest = heldIterator(source, head, ctx, signal, errorOf, {
      chunk: (part) => reported.see(part),
      end: (error) => reportAnswer(ctx, reported.answer(error)),
    })
    const stream = new ReadableStream<any>({
      async pull(controller) {
        try {
          const step = await rest.next()
          if (step.done) controller.close()
          else controller.enqueue(step.value)
        } catch (error) {
          controller.error(error)
        }
      },
      async cancel() {
        await rest.return?.()
      },
    })
    return { ...result, stream }
  } catch (error) {
    // Failed before its content: the stream's answer (headers, an error part), or an APICallError's.
    const answer = unreported !== undefined ? unreported.answer(error) : errorAnswer(model, error)
    if (answer !== undefined) reportAnswer(ctx, answer)
    throw surfaced(error, signal)
  }
}
