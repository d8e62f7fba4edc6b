import { requestKey } from '../dedupe/request-key.js'
import type { DedupeMode, ProviderCallOptions } from './provider-options.js'
import type { RequestInfo } from './request-info.js'

/** Request headers that change on every attempt or carry tracing, never the question. */
const VOLATILE_HEADERS = new Set([
  'x-stainless-retry-count',
  'x-stainless-timeout',
  'idempotency-key',
  'traceparent',
  'tracestate',
  'baggage',
  'content-length',
])
/** Operations whose answer does not depend on sampling. */
const DETERMINISTIC_OPERATIONS = new Set(['embeddings', 'count_tokens'])

/**
 * The dedupe key of a request, or undefined when it must not be merged (W2). The key hashes the
 * method, URL, JSON body (key-order independent) and headers — credentials included, so two tenants
 * never share an answer — under the caller's key and the wrapper's scope.
 */
export function dedupeKey(
  mode: DedupeMode,
  info: RequestInfo,
  call: ProviderCallOptions | undefined,
  scope: string | undefined,
): string | undefined {
  const own = call?.key
  // A stream has one reader, and a body we cannot read (a form upload) cannot be compared.
  if (own === false || info.stream || !replayable(info.init.body)) return undefined
  if (typeof own !== 'string') {
    if (mode === 'never') return undefined
    if (mode === 'deterministic' && !deterministic(info)) return undefined
  }
  const headers: [string, string][] = []
  new Headers(info.init.headers).forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name)) headers.push([name, value])
  })
  return requestKey(
    {
      key: own,
      method: info.method,
      url: info.url,
      body: info.json ?? (typeof info.init.body === 'string' ? info.init.body : null),
      headers,
    },
    scope,
  )
}

/** `temperature: 0` with one choice, or an operation that does not sample. */
export function deterministic(info: RequestInfo): boolean {
  if (info.method !== 'POST' || info.json === undefined) return false
  if (DETERMINISTIC_OPERATIONS.has(info.operation)) return true
  const n = info.json.n
  return info.json.temperature === 0 && (n === undefined || n === null || n === 1)
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string'
}
