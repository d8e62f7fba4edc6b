import type { CallContext } from '../core/call-options.js'
import type { Guard } from '../core/guard.js'
import { requestKey } from '../dedupe/request-key.js'
import { GuardedAPIPromise, type AnswerMode, type SdkAnswer } from './guarded-promise.js'
import { heldIterator, readToContent, replaceIteration, surfaced } from './guarded-stream.js'
import { splitOptions, type ResolvedWrapOptions, type SplitOptions } from './provider-options.js'

/** One wrapped SDK method: which provider it talks to and how to read its stream. */
export interface Endpoint {
  readonly provider: 'openai' | 'anthropic'
  /** True for the first chunk that carries content (or ends the answer). */
  isContent(chunk: unknown): boolean
  /** An error a chunk reports (e.g. `response.failed`), to be thrown before content. */
  errorOf?(chunk: unknown): unknown
}

/** What every wrapped method of one client shares. */
export interface ClientState {
  readonly owner: string
  readonly guard: Guard
  readonly options: ResolvedWrapOptions
  /** The dedupe scope for this client's calls. */
  readonly scope: () => string
}

/** The SDK promise, as far as the wrapper uses it. */
interface SdkPromise {
  withResponse(): Promise<SdkAnswer>
  asResponse(): Promise<Response>
}

type Create = (body: unknown, options: Record<string, unknown>) => SdkPromise

/**
 * Runs an SDK `create()` through the guard: one attempt per guard attempt with the SDK's retries
 * off and the attempt's signal, a stream handed back only after its first content, and the next
 * fallback model when a model fails for good.
 */
export function guardedCreate(
  state: ClientState,
  endpoint: Endpoint,
  create: Create,
  body: unknown,
  options: unknown,
): GuardedAPIPromise<unknown> {
  let split: SplitOptions
  try {
    split = splitOptions(state.owner, options)
  } catch (error) {
    return new GuardedAPIPromise(() => Promise.reject(error))
  }
  return new GuardedAPIPromise((mode) => run(state, endpoint, create, body, split, mode))
}

async function run(
  state: ClientState,
  endpoint: Endpoint,
  create: Create,
  body: unknown,
  split: SplitOptions,
  mode: AnswerMode,
): Promise<unknown> {
  const request = body as Record<string, unknown> | null
  const primary = typeof request?.model === 'string' ? request.model : 'unknown'
  const fallbacks = state.options.models
  const { call, signal } = split
  for (let i = 0; ; i++) {
    const model = i === 0 ? primary : fallbacks[i - 1]!
    const attemptBody = i === 0 ? body : { ...request, model }
    try {
      return await state.guard.execute((ctx) => attempt(endpoint, create, attemptBody, split, mode, ctx), {
        service: `${endpoint.provider}:${model}`,
        key: keyFor(state, attemptBody, split, mode, i === 0 ? undefined : model),
        cost: call?.cost,
        priority: call?.priority,
        signal,
      })
    } catch (error) {
      if (i >= fallbacks.length || signal?.aborted || !state.options.fallbackOn(error)) throw error
    }
  }
}

function keyFor(
  state: ClientState,
  body: unknown,
  split: SplitOptions,
  mode: AnswerMode,
  fallbackModel: string | undefined,
): string | undefined {
  const own = split.call?.key
  // A raw Response's body can be read once, and a stream by one consumer: neither is shared.
  if (own === false || mode === 'raw' || (body as { stream?: unknown }).stream === true) return undefined
  if (typeof own === 'string') return fallbackModel === undefined ? own : `${own}\u0000${fallbackModel}`
  return split.keyNeutral ? requestKey(body, state.scope()) : undefined
}

async function attempt(
  endpoint: Endpoint,
  create: Create,
  body: unknown,
  split: SplitOptions,
  mode: AnswerMode,
  ctx: CallContext,
): Promise<unknown> {
  const signal = ctx.signal
  try {
    // One retry loop, ours: the SDK's retries are off for every wrapped call.
    const pending = create(body, { ...split.sdk, maxRetries: 0, signal })
    if (mode === 'raw') return await pending.asResponse()
    const answer = await pending.withResponse()
    if ((body as { stream?: unknown }).stream !== true) return answer
    const stream = answer.data as AsyncIterable<unknown>
    const source = stream[Symbol.asyncIterator]()
    const head = await readToContent(source, signal, endpoint.isContent, endpoint.errorOf)
    replaceIteration(stream, heldIterator(source, head, ctx, signal))
    return answer
  } catch (error) {
    throw surfaced(error, signal)
  }
}
