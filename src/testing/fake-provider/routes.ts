import { anthropicMessages } from './anthropic-api.js'
import type { Dialect, FakeApi } from './dialect.js'
import { openaiChat } from './openai-api.js'
import { openaiResponses } from './openai-api.js'

/** Where a request goes: its API, the dialect of its provider, and the ids in its path. */
export interface Route {
  readonly api: FakeApi
  /** The provider's dialect: error envelopes, the request-id header, and (for generation) answers. */
  readonly dialect: Dialect
  /** True for chat / responses / messages: answered with a `Reply`, as JSON or as a stream. */
  readonly generation: boolean
  /** A body without `model` is answered 400. */
  readonly needsModel: boolean
  /** False when the path exists but not for this method (answered 405). */
  readonly allowed: boolean
  /** The batch id in `/batches/:id`. */
  readonly id?: string
  /** `cancel` in `/batches/:id/cancel`. */
  readonly action?: string
}

const FIXED: Record<string, Omit<Route, 'allowed'>> = {
  '/v1/chat/completions': { api: 'openai-chat', dialect: openaiChat, generation: true, needsModel: true },
  '/v1/responses': { api: 'openai-responses', dialect: openaiResponses, generation: true, needsModel: true },
  '/v1/messages': {
    api: 'anthropic-messages',
    dialect: anthropicMessages,
    generation: true,
    needsModel: true,
  },
  '/v1/embeddings': { api: 'openai-embeddings', dialect: openaiChat, generation: false, needsModel: true },
  '/v1/messages/count_tokens': {
    api: 'anthropic-count-tokens',
    dialect: anthropicMessages,
    generation: false,
    needsModel: true,
  },
}

const BATCHES: { prefix: string; api: FakeApi; dialect: Dialect }[] = [
  { prefix: '/v1/messages/batches', api: 'anthropic-batches', dialect: anthropicMessages },
  { prefix: '/v1/batches', api: 'openai-batches', dialect: openaiChat },
]

/** The route of `method path`, or undefined for a path the fake does not know (answered 404). */
export function routeOf(method: string, path: string): Route | undefined {
  const fixed = FIXED[path]
  if (fixed !== undefined) return { ...fixed, allowed: method === 'POST' }
  for (const b of BATCHES) {
    if (path !== b.prefix && !path.startsWith(`${b.prefix}/`)) continue
    const [id, action, extra] = path.slice(b.prefix.length + 1).split('/')
    if (extra !== undefined || (action !== undefined && action !== 'cancel')) return undefined
    const allowed =
      id === undefined || id === ''
        ? method === 'POST' || method === 'GET'
        : action === 'cancel'
          ? method === 'POST'
          : method === 'GET'
    return {
      api: b.api,
      dialect: b.dialect,
      generation: false,
      needsModel: false,
      allowed,
      ...(id !== undefined && id !== '' && { id }),
      ...(action !== undefined && { action }),
    }
  }
  return undefined
}
