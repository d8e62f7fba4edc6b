import type { StreamApi } from '../classify/stream-events.js'

/** What the transport knows about one HTTP request a wrapped client makes. */
export interface RequestInfo {
  readonly url: string
  readonly method: string
  /** For metrics and spans (`gen_ai.operation.name`): 'chat', 'embeddings', 'count_tokens', 'batches', … */
  readonly operation: string
  /** How to read its event stream, when it streams. */
  readonly streamApi: StreamApi
  /** The JSON body, when the body is a JSON object. */
  readonly json: Record<string, unknown> | undefined
  /** `json.model`, when it is a string. */
  readonly model: string | undefined
  /** `json.stream === true`. */
  readonly stream: boolean
  readonly init: RequestInit
}

/** Path endings the transport knows, most specific first. */
const OPERATIONS: readonly { suffix: string; operation: string; streamApi: StreamApi }[] = [
  { suffix: '/chat/completions', operation: 'chat', streamApi: 'openai-chat' },
  { suffix: '/messages/count_tokens', operation: 'count_tokens', streamApi: 'sse' },
  { suffix: '/messages', operation: 'chat', streamApi: 'anthropic-messages' },
  { suffix: '/responses', operation: 'chat', streamApi: 'openai-responses' },
  { suffix: '/embeddings', operation: 'embeddings', streamApi: 'sse' },
  { suffix: '/completions', operation: 'text_completion', streamApi: 'sse' },
]

/**
 * Describes a request from what `fetch` receives. A body that can be sent only once (a
 * `ReadableStream`) is read into memory first, so a retry can send it again.
 */
export async function describeRequest(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<RequestInfo> {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    const request = new Request(input, init)
    const body = request.body === null ? undefined : await request.arrayBuffer()
    return describeRequest(request.url, {
      method: request.method,
      headers: request.headers,
      signal: init.signal ?? request.signal,
      ...(body !== undefined && { body }),
    })
  }
  const url = String(input)
  if (init.body instanceof ReadableStream) {
    init = { ...init, body: await new Response(init.body).arrayBuffer() }
    delete (init as { duplex?: unknown }).duplex
  }
  const method = (init.method ?? 'GET').toUpperCase()
  const path = new URL(url).pathname.replace(/\/+$/, '')
  const known = OPERATIONS.find((o) => path.endsWith(o.suffix))
  const json = typeof init.body === 'string' ? parseObject(init.body) : undefined
  const model = typeof json?.model === 'string' && json.model !== '' ? json.model : undefined
  return {
    url,
    method,
    operation: known?.operation ?? fallbackOperation(path),
    streamApi: known?.streamApi ?? 'sse',
    json,
    model,
    stream: json?.stream === true,
    init,
  }
}

/** The request for `model` instead of the original one (a fallback model). */
export function withModel(info: RequestInfo, model: string): RequestInit {
  const headers = new Headers(info.init.headers)
  headers.delete('content-length')
  return { ...info.init, headers, body: JSON.stringify({ ...info.json, model }) }
}

/** `/v1/files/file-1/content` → 'files'; a batch path → 'batches'. */
function fallbackOperation(path: string): string {
  const segments = path.split('/').filter((s) => s !== '' && !/^v\d/.test(s))
  if (segments.includes('batches')) return 'batches'
  return segments[0] ?? 'request'
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
