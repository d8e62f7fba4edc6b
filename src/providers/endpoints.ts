import type { Endpoint } from './sdk-call.js'

type Chunk = Record<string, any> | null | undefined

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value !== ''

/** Chat Completions: the opening chunk carries only the role; content, tool calls or a finish follow. */
export const openaiChatEndpoint: Endpoint = {
  provider: 'openai',
  isContent(chunk) {
    const choices = (chunk as Chunk)?.choices
    // A chunk without choices is the usage chunk (or a record the SDK passes through): content.
    if (!Array.isArray(choices) || choices.length === 0) return true
    for (const choice of choices as Chunk[]) {
      const delta = choice?.delta as Chunk
      if (
        choice?.finish_reason ||
        nonEmpty(delta?.content) ||
        nonEmpty(delta?.refusal) ||
        (Array.isArray(delta?.tool_calls) && delta.tool_calls.length > 0) ||
        delta?.function_call
      ) {
        return true
      }
    }
    return false
  },
}

const RESPONSES_OPENING = new Set([
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
])

/** Responses API: lifecycle events open the stream; any other event is content. */
export const openaiResponsesEndpoint: Endpoint = {
  provider: 'openai',
  isContent: (event) => !RESPONSES_OPENING.has((event as Chunk)?.type),
  // A response that fails before any content arrives as an event, not an error: make it one.
  errorOf(event) {
    const e = event as Chunk
    if (e?.type !== 'response.failed') return undefined
    const detail = (e.response?.error ?? {}) as { code?: string; message?: string }
    return Object.assign(new Error(detail.message ?? 'response failed'), {
      name: 'APIError',
      code: detail.code,
      error: detail,
    })
  },
}

const ANTHROPIC_OPENING = new Set(['message_start', 'content_block_start', 'ping'])

/** Messages API: message_start and content_block_start open the stream; deltas are content. */
export const anthropicMessagesEndpoint: Endpoint = {
  provider: 'anthropic',
  isContent: (event) => !ANTHROPIC_OPENING.has((event as Chunk)?.type),
}
