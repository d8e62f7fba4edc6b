import type { SseEvent } from './sse-scanner.js'

/** The streaming APIs whose events breakwater reads; 'sse' is any other event stream. */
export type StreamApi = 'openai-chat' | 'openai-responses' | 'anthropic-messages' | 'sse'

/** What one event means before the first content: it opens the stream, is content, or is a failure. */
export type StreamEventKind = 'opening' | 'content' | 'error'

/**
 * An error a stream reports as an event (Anthropic's `event: error` after `message_start`, an
 * OpenAI `{ error }` chunk, the Responses API's `error` and `response.failed` events), shaped like
 * the SDKs' status-less `APIError` so `classifyError` reads its `type` / `code` (K1).
 */
export class StreamEventError extends Error {
  override readonly name = 'StreamEventError'
  readonly status = undefined
  readonly type: string | undefined
  readonly code: string | undefined
  /** The error object the event carried. */
  readonly error: unknown
  readonly headers: Headers | undefined

  constructor(detail: Record<string, unknown>, headers: Headers | undefined) {
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
    super(str(detail.message) ?? 'the provider reported an error in the stream')
    this.type = str(detail.type)
    this.code = str(detail.code)
    this.error = detail
    this.headers = headers
  }
}

const OPENING: Record<Exclude<StreamApi, 'sse' | 'openai-chat'>, ReadonlySet<string>> = {
  'openai-responses': new Set([
    'response.created',
    'response.queued',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
  ]),
  'anthropic-messages': new Set(['message_start', 'content_block_start', 'ping']),
}

type Shape = Record<string, any>

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value !== ''

/** Fields whose object value makes an event worth parsing once its content is flowing. */
const MATTERS = /"(?:usage|error)"\s*:\s*\{|"type"\s*:\s*"(?:error|response\.failed)"/

/**
 * Whether an event after the first content can carry anything the transport reads — usage, an
 * error — so the rest (the content deltas, most of a stream) is passed on without parsing its JSON.
 */
export function mayMatter(event: SseEvent): boolean {
  return event.event === 'error' || MATTERS.test(event.data)
}

/** Reads an event's JSON data; undefined for `[DONE]` or data that is not JSON. */
export function eventData(event: SseEvent): unknown {
  if (event.data === '' || event.data === '[DONE]') return undefined
  try {
    return JSON.parse(event.data) as unknown
  } catch {
    return undefined
  }
}

/**
 * What `event` means on a stream of `api`: 'error' (with the error) for a failure the stream
 * reports, 'opening' for metadata that precedes content (the role chunk, `message_start`,
 * `response.created`, pings), else 'content'. `[DONE]` and the end of a stream count as content:
 * the answer is complete.
 */
export function classifyStreamEvent(
  api: StreamApi,
  event: SseEvent,
  data: unknown,
  headers?: Headers,
): { kind: StreamEventKind; error?: StreamEventError } {
  const d = data as Shape | undefined
  const type = typeof d?.type === 'string' ? (d.type as string) : undefined
  if (event.event === 'error' || type === 'error') {
    const detail = (typeof d?.error === 'object' && d.error !== null ? d.error : d) as Shape | undefined
    return { kind: 'error', error: new StreamEventError(detail ?? { message: event.data }, headers) }
  }
  if (typeof d?.error === 'object' && d.error !== null && api !== 'anthropic-messages') {
    return { kind: 'error', error: new StreamEventError(d.error as Shape, headers) }
  }
  if (type === 'response.failed') {
    const detail = (d?.response?.error ?? {}) as Shape
    return { kind: 'error', error: new StreamEventError({ message: 'response failed', ...detail }, headers) }
  }
  switch (api) {
    case 'openai-chat':
      return { kind: chatChunkIsContent(d) ? 'content' : 'opening' }
    case 'openai-responses':
    case 'anthropic-messages':
      return {
        kind:
          (type ?? event.event) !== undefined && OPENING[api].has((type ?? event.event)!)
            ? 'opening'
            : 'content',
      }
    default:
      return { kind: 'content' }
  }
}

/** Chat Completions: the opening chunk carries only the role; content, tool calls or a finish follow. */
function chatChunkIsContent(chunk: Shape | undefined): boolean {
  const choices = chunk?.choices as Shape[] | undefined
  // `[DONE]`, a usage chunk without choices, or a record of another kind: content.
  if (!Array.isArray(choices) || choices.length === 0) return true
  for (const choice of choices) {
    const delta = choice?.delta as Shape | undefined
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
}
