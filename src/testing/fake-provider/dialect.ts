/** What every API the fake speaks has to provide: bodies, stream events and error envelopes. */

/** One server-sent event. */
export interface SseEvent {
  event?: string
  data: string
}

/** The deterministic answer to one request. */
export interface Reply {
  /** Response id (chatcmpl-…, resp_…, msg_…). */
  id: string
  model: string
  text: string
  /** `text` split into the content chunks of a stream. */
  pieces: string[]
  inputTokens: number
  outputTokens: number
  /** Unix seconds, from the fake's clock. */
  created: number
  /** OpenAI chat: `stream_options.include_usage` was set. */
  includeUsage: boolean
}

/** A stream as three parts, so faults can cut in after the opening events or after n content chunks. */
export interface StreamPlan {
  /** Events before any content (message_start, the role chunk, response.created, …). */
  prelude: SseEvent[]
  /** One event per content chunk. */
  content: SseEvent[]
  /** Closing events (message_stop, finish chunk, [DONE], response.completed, …). */
  epilogue: SseEvent[]
}

/** Every API the fake answers. */
export type FakeApi =
  | 'openai-chat'
  | 'openai-responses'
  | 'openai-embeddings'
  | 'openai-batches'
  | 'anthropic-messages'
  | 'anthropic-count-tokens'
  | 'anthropic-batches'

/** The generation APIs: they answer with a `Reply`, as JSON or as a stream. */
export type GenerationApi = 'openai-chat' | 'openai-responses' | 'anthropic-messages'

export interface Dialect {
  readonly api: GenerationApi
  readonly provider: 'openai' | 'anthropic'
  readonly requestIdHeader: string
  /** The last user message and all input text (for usage). */
  inputText(body: Record<string, unknown>): { last: string; all: string }
  json(reply: Reply): unknown
  stream(reply: Reply): StreamPlan
  /** The provider's error envelope; `requestId` is the answer's request id (Anthropic repeats it). */
  errorBody(type: string, message: string, code?: string, requestId?: string): unknown
  /** The SSE error event a stream ends with; `sent` counts the events sent before it. */
  streamError(type: string, message: string, sent: number, requestId: string): SseEvent
  /** The error type a `stream_error` fault uses when it names none. */
  readonly defaultStreamErrorType: string
}

export const json = (event: string | undefined, data: unknown): SseEvent =>
  event === undefined ? { data: JSON.stringify(data) } : { event, data: JSON.stringify(data) }

/** Text of a message `content`: a string, or an array of parts with `text`. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  let out = ''
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text
    if (typeof text === 'string') out += (out ? '\n' : '') + text
  }
  return out
}

/** Last user message and all text of a list of `{ role, content }` messages. */
export function messagesText(messages: unknown, extra = ''): { last: string; all: string } {
  let last = ''
  let all = extra
  if (Array.isArray(messages)) {
    for (const m of messages) {
      const msg = m as { role?: unknown; content?: unknown } | null
      const text = contentText(msg?.content)
      all += text
      if (msg?.role === 'user') last = text
    }
  }
  return { last, all }
}
