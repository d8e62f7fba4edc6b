import { isResilienceError } from '../core/errors/resilience-error.js'
import { isTimeoutError } from '../core/errors/timeout-error.js'
import { headerValue, retryAfterMs } from './retry-after.js'

/** How an outcome counts for a circuit breaker. */
export type Health = 'failure' | 'success' | 'ignore'

/** Bounded vocabulary, safe as a metrics label. */
export type ErrorReason =
  | 'rate_limited'
  | 'quota_exhausted'
  | 'overloaded'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'conflict'
  | 'bad_request'
  | 'context_overflow'
  | 'auth'
  | 'not_found'
  | 'client_error'
  | 'aborted'
  | 'circuit_open'
  | 'shed'
  | 'over_budget'
  | 'unknown'

export interface ErrorClass {
  /** May the same request be sent again? */
  retryable: boolean
  /** How a circuit breaker counts it. */
  health: Health
  reason: ErrorReason
  /** HTTP status, when the error carries one. */
  status?: number
  /** The provider's requested wait (retry-after-ms / retry-after), when present. */
  retryAfterMs?: number
}

export interface ClassifyOptions {
  /** The caller's signal: when it is aborted, any error counts as an abort (health 'ignore'). */
  signal?: AbortSignal
  /** Current time in ms, to turn an HTTP-date Retry-After into a wait. Default `Date.now()`. */
  now?: number
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ESOCKETTIMEDOUT',
])
const NETWORK_NAMES = new Set(['APIConnectionError', 'FetchError', 'SocketError'])
const TIMEOUT_NAMES = new Set([
  'APIConnectionTimeoutError',
  'TimeoutError',
  'ConnectTimeoutError',
  'HeadersTimeoutError',
  'BodyTimeoutError',
])
const ABORT_NAMES = new Set(['AbortError', 'APIUserAbortError'])
const QUOTA_MARKERS = [
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'quota_exceeded',
]
const OVERLOADED_TYPES = new Set(['overloaded_error', 'overloaded'])
const SERVER_TYPES = new Set(['server_error', 'api_error', 'internal_server_error', 'service_unavailable'])

type Shape = Record<string, unknown>

function asShape(value: unknown): Shape | undefined {
  return typeof value === 'object' && value !== null ? (value as Shape) : undefined
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** The HTTP status, from `status`, `statusCode` (AI SDK) or `response.status`. */
function statusOf(e: Shape): number | undefined {
  for (const value of [e.status, e.statusCode, asShape(e.response)?.status]) {
    if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) return value
  }
  return undefined
}

/** The response headers an error carries (SDK errors, AI SDK `responseHeaders`, `response.headers`). */
export function headersOf(e: Shape): unknown {
  return e.headers ?? e.responseHeaders ?? asShape(e.response)?.headers
}

/** Every type/code string the error or its body carries (OpenAI: code/type; Anthropic: error.error.type). */
function markersOf(e: Shape): string[] {
  const out: string[] = []
  const body = asShape(e.error)
  const nested = asShape(body?.error)
  for (const source of [e, body, nested]) {
    if (!source) continue
    for (const field of ['type', 'code']) {
      const value = str(source[field])
      if (value) out.push(value.toLowerCase())
    }
  }
  const data = asShape(e.data)
  const dataError = asShape(data?.error)
  for (const field of ['type', 'code']) {
    const value = str(dataError?.[field])
    if (value) out.push(value.toLowerCase())
  }
  return out
}

/** Walks `cause` links (fetch wraps undici's socket errors in a TypeError 'fetch failed'). */
function causes(e: Shape): Shape[] {
  const chain: Shape[] = []
  let current: Shape | undefined = e
  while (current && chain.length < 8 && !chain.includes(current)) {
    chain.push(current)
    current = asShape(current.cause)
  }
  return chain
}

/**
 * The error's class name. SDK errors keep `name` as 'Error', so the constructor's name is read too
 * (a name, not an `instanceof`: it matches a second copy of the SDK as well).
 */
function nameOf(e: Shape): string | undefined {
  const name = str(e.name)
  if (name && name !== 'Error') return name
  const ctor = (e as { constructor?: { name?: unknown } }).constructor
  return str(ctor?.name) ?? name
}

/** An abort, possibly wrapped (fetch wraps undici's abort in a TypeError 'fetch failed'). */
function isAbortLink(link: Shape): boolean {
  const name = nameOf(link)
  const code = str(link.code)
  return (name !== undefined && ABORT_NAMES.has(name)) || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR'
}

function networkKind(e: Shape): 'network' | 'timeout' | undefined {
  for (const link of causes(e)) {
    const code = str(link.code)
    const name = nameOf(link)
    if (
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    ) {
      return 'timeout'
    }
    if (name && TIMEOUT_NAMES.has(name) && !isResilienceError(link)) return 'timeout'
    if (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return 'network'
    if (name && NETWORK_NAMES.has(name)) return 'network'
  }
  if (str(e.name) === 'TypeError' && str(e.message) === 'fetch failed') return 'network'
  return undefined
}

function shouldRetryHeader(headers: unknown): boolean | undefined {
  const value = headerValue(headers, 'x-should-retry')
  if (value === 'true') return true
  if (value === 'false') return false
  return undefined
}

function fromStatus(status: number, markers: string[]): Omit<ErrorClass, 'status'> {
  if (status === 429) {
    if (markers.some((m) => QUOTA_MARKERS.includes(m))) {
      return { retryable: false, health: 'ignore', reason: 'quota_exhausted' }
    }
    return { retryable: true, health: 'ignore', reason: 'rate_limited' }
  }
  if (status === 529 || markers.some((m) => OVERLOADED_TYPES.has(m))) {
    return { retryable: true, health: 'failure', reason: 'overloaded' }
  }
  if (status >= 500) return { retryable: true, health: 'failure', reason: 'server_error' }
  if (status === 408) return { retryable: true, health: 'failure', reason: 'timeout' }
  if (status === 409) return { retryable: true, health: 'success', reason: 'conflict' }
  if (status === 402 || markers.some((m) => QUOTA_MARKERS.includes(m))) {
    return { retryable: false, health: 'success', reason: 'quota_exhausted' }
  }
  if (status === 401 || status === 403) return { retryable: false, health: 'success', reason: 'auth' }
  if (status === 404) return { retryable: false, health: 'success', reason: 'not_found' }
  if (status === 400 || status === 422) return { retryable: false, health: 'success', reason: 'bad_request' }
  return { retryable: false, health: 'success', reason: 'client_error' }
}

/**
 * The request is longer than the model's context window: OpenAI's code `context_length_exceeded`,
 * Anthropic's 400 `invalid_request_error` whose message starts "prompt is too long". Sending it again
 * as is fails the same way; compaction must shorten it first (P11).
 */
function isContextOverflow(e: Shape, markers: string[]): boolean {
  if (markers.includes('context_length_exceeded')) return true
  if (!markers.includes('invalid_request_error')) return false
  const body = asShape(e.error)
  for (const source of [asShape(body?.error), body, asShape(asShape(e.data)?.error), e]) {
    const message = str(source?.message)
    if (message !== undefined && /^(?:\d{3}\s+)?prompt is too long/i.test(message.trim())) return true
  }
  return false
}

/** A status-less error: breakwater's own, aborts, network failures, errors that arrive mid-stream. */
function withoutStatus(e: Shape, markers: string[]): Omit<ErrorClass, 'status'> {
  if (isResilienceError(e)) {
    if (isTimeoutError(e)) {
      return { retryable: e.kind !== 'total', health: 'failure', reason: 'timeout' }
    }
    const code = e.code
    if (code === 'BREAKWATER_BROKEN_CIRCUIT')
      return { retryable: false, health: 'ignore', reason: 'circuit_open' }
    if (code === 'BREAKWATER_BACKPRESSURE_SHED') return { retryable: false, health: 'ignore', reason: 'shed' }
    if (code === 'BREAKWATER_RATE_LIMITED')
      return { retryable: false, health: 'ignore', reason: 'over_budget' }
    return { retryable: false, health: 'failure', reason: 'unknown' }
  }
  if (causes(e).some(isAbortLink)) return { retryable: false, health: 'ignore', reason: 'aborted' }
  if (markers.some((m) => QUOTA_MARKERS.includes(m))) {
    return { retryable: false, health: 'ignore', reason: 'quota_exhausted' }
  }
  if (markers.some((m) => OVERLOADED_TYPES.has(m)))
    return { retryable: true, health: 'failure', reason: 'overloaded' }
  if (markers.includes('rate_limit_error') || markers.includes('rate_limit_exceeded')) {
    return { retryable: true, health: 'ignore', reason: 'rate_limited' }
  }
  if (markers.some((m) => SERVER_TYPES.has(m)))
    return { retryable: true, health: 'failure', reason: 'server_error' }
  const network = networkKind(e)
  if (network) return { retryable: true, health: 'failure', reason: network }
  return { retryable: false, health: 'failure', reason: 'unknown' }
}

/**
 * Classifies any error from a provider SDK, the AI SDK, fetch/undici or breakwater itself: may it
 * be retried, how does it count for a breaker, why did it happen, and how long did the provider ask
 * us to wait. Duck-typed: it reads shapes, never `instanceof`, so two copies of an SDK both work.
 */
export function classifyError(error: unknown, options: ClassifyOptions = {}): ErrorClass {
  const e = asShape(error)
  if (options.signal?.aborted) {
    return { retryable: false, health: 'ignore', reason: 'aborted', ...(e && statusField(e)) }
  }
  if (!e) return { retryable: false, health: 'failure', reason: 'unknown' }
  const status = statusOf(e)
  const markers = markersOf(e)
  const base =
    (status === undefined || status === 400) && isContextOverflow(e, markers)
      ? { retryable: false, health: 'success' as const, reason: 'context_overflow' as const }
      : status === undefined
        ? withoutStatus(e, markers)
        : fromStatus(status, markers)
  const result: ErrorClass = status === undefined ? { ...base } : { ...base, status }
  const headers = headersOf(e)
  if (headers !== undefined) {
    const wait = retryAfterMs(headers, options.now)
    if (wait !== undefined) result.retryAfterMs = wait
    const should = shouldRetryHeader(headers)
    // x-should-retry overrides the status, but never makes an abort or an exhausted quota retryable.
    if (should === false) result.retryable = false
    if (should === true && result.reason !== 'quota_exhausted' && result.reason !== 'aborted')
      result.retryable = true
  }
  // The AI SDK computes its own verdict; a 'false' there (e.g. a non-retryable 4xx) is respected.
  if (e.isRetryable === false && status !== undefined) result.retryable = false
  return result
}

function statusField(e: Shape): { status?: number } {
  const status = statusOf(e)
  return status === undefined ? {} : { status }
}
