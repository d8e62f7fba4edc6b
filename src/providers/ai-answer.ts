import type { TokenUsage } from '../classify/answer-facts.js'
import type { ProviderAnswer } from '../classify/provider-answer.js'
import { upstreamProvider } from './service-name.js'

type Shape = Record<string, unknown>

const shape = (v: unknown): Shape | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Shape) : undefined
const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined

/** The model an AI SDK answer comes from (the parts the middleware reads). */
interface AnsweringModel {
  readonly provider: string
  readonly modelId: string
}

/**
 * An AI SDK usage in any specification's shape: v2 counts (`inputTokens: 12`), or v3 / v4 objects
 * (`inputTokens: { total, noCache, cacheRead, cacheWrite }`, `outputTokens: { total, … }`).
 */
export function aiSdkUsage(value: unknown): TokenUsage | undefined {
  const u = shape(value)
  if (u === undefined) return undefined
  const side = (v: unknown): number | undefined => count(v) ?? count(shape(v)?.total)
  const out: TokenUsage = {}
  const input = side(u.inputTokens)
  const output = side(u.outputTokens)
  const total = count(u.totalTokens)
  if (input !== undefined) out.inputTokens = input
  if (output !== undefined) out.outputTokens = output
  if (total !== undefined) out.totalTokens = total
  return input === undefined && output === undefined && total === undefined ? undefined : out
}

function base(model: AnsweringModel): ProviderAnswer {
  return { provider: upstreamProvider(model.provider), operation: 'chat', model: model.modelId }
}

/** The answer a `doGenerate` result is: its usage, response headers and model. */
export function generateAnswer(model: AnsweringModel, result: unknown): ProviderAnswer {
  const r = shape(result)
  const response = shape(r?.response)
  const responseModel = response?.modelId
  const usage = aiSdkUsage(r?.usage)
  return {
    ...base(model),
    ...(typeof responseModel === 'string' && { responseModel }),
    ...(response?.headers !== undefined && { headers: response.headers }),
    ...(usage !== undefined && { usage }),
  }
}

/**
 * The answer behind a model's error, when the error is one the provider answered (an AI SDK
 * `APICallError`: `statusCode`, `responseHeaders`); undefined for anything else (a network error,
 * an abort), which is no answer.
 */
export function errorAnswer(model: AnsweringModel, error: unknown): ProviderAnswer | undefined {
  const e = shape(error)
  const status = e?.statusCode
  if (typeof status !== 'number') return undefined
  return {
    ...base(model),
    status,
    ...(e!.responseHeaders !== undefined && { headers: e!.responseHeaders }),
    error,
  }
}

/** What a `doStream` stream says about itself while it runs, for its answer at the end. */
export class StreamAnswer {
  private usage: TokenUsage | undefined
  private responseModel: string | undefined

  constructor(
    private readonly model: AnsweringModel,
    private readonly headers: unknown,
  ) {}

  /** Reads one stream part: `response-metadata` (the model), `finish` (the usage). */
  see(part: unknown): void {
    const p = shape(part)
    if (p?.type === 'response-metadata' && typeof p.modelId === 'string') this.responseModel ??= p.modelId
    else if (p?.type === 'finish') this.usage = aiSdkUsage(p.usage) ?? this.usage
  }

  answer(error?: unknown): ProviderAnswer {
    return {
      ...base(this.model),
      ...(this.responseModel !== undefined && { responseModel: this.responseModel }),
      ...(this.headers !== undefined && { headers: this.headers }),
      ...(this.usage !== undefined && { usage: this.usage }),
      ...(error !== undefined && { error }),
    }
  }
}
