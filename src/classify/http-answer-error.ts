/**
 * A provider's HTTP error answer (a 429, a 5xx, a 529 …) as the guards see it: shaped like the
 * SDKs' `APIError` — `status`, `headers`, the parsed body as `error`, and its `type` / `code` — so
 * `classifyError`, `retryOn` and a breaker's `classify` read it as they read the SDK's own errors
 * (Retry-After and `x-should-retry` included). The caller never sees it: once the guards are done,
 * the SDK builds its own typed error from the same answer.
 */
export class HttpAnswerError extends Error {
  override readonly name = 'HttpAnswerError'
  readonly status: number
  readonly headers: Headers
  /** The parsed JSON body (or its text when it is not JSON). */
  readonly error: unknown
  readonly type: string | undefined
  readonly code: string | undefined

  constructor(status: number, headers: Headers, bodyText: string) {
    const body = parseJson(bodyText)
    const detail = (
      typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined
    ) as { message?: unknown; type?: unknown; code?: unknown } | undefined
    const message = typeof detail?.message === 'string' ? detail.message : `HTTP ${status}`
    super(`${status} ${message}`)
    this.status = status
    this.headers = headers
    this.error = body
    this.type = typeof detail?.type === 'string' ? detail.type : undefined
    this.code = typeof detail?.code === 'string' ? detail.code : undefined
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
