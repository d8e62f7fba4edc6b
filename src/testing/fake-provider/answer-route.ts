import type { BatchStore } from './batches-api.js'
import { embeddingsAnswer } from './embeddings-api.js'
import { buildReply, tokens, type ReplyRequest } from './incoming.js'
import type { NormalAnswer } from './respond.js'
import type { Route } from './routes.js'

/** What answering one routed request needs. */
export interface RouteRequest {
  method: string
  route: Route
  body: Record<string, unknown>
  model: string
  stream: boolean
  seq: number
  requestId: string
  now: number
  reply: (request: ReplyRequest) => string
  batches: BatchStore
}

/** What the request gets when no fault cuts in. */
export function answerRoute(r: RouteRequest): NormalAnswer {
  const { route, body, now } = r
  const dialect = route.dialect
  switch (route.api) {
    case 'openai-embeddings':
      return { kind: 'json', status: 200, json: embeddingsAnswer(body) }
    case 'anthropic-count-tokens':
      return { kind: 'json', status: 200, json: { input_tokens: tokens(dialect.inputText(body).all) } }
    case 'openai-batches':
    case 'anthropic-batches': {
      const call = {
        body,
        seq: r.seq,
        now,
        notFound: (message: string) => dialect.errorBody('not_found_error', message, undefined, r.requestId),
      }
      return {
        kind: 'json',
        ...(route.api === 'openai-batches'
          ? r.batches.openaiBatches(r.method, route.id, route.action, call)
          : r.batches.anthropicBatches(r.method, route.id, route.action, call)),
      }
    }
    default:
      return {
        kind: 'reply',
        stream: r.stream,
        reply: buildReply(dialect, body, {
          model: r.model,
          stream: r.stream,
          seq: r.seq,
          now,
          reply: r.reply,
        }),
      }
  }
}
