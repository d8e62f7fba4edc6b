/**
 * Faults the fake provider injects. Each one reproduces a failure real providers produce, in the
 * shape the official SDKs parse, so the code under test sees exactly what it would in production.
 */

/** 429 rate limit. Without a retry-after field no Retry-After header is sent. */
export interface RateLimitFault {
  kind: 'rate_limit'
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number
  /** Sent as `retry-after`: a number of seconds, or a raw header value. */
  retryAfter?: number | string
  /** Sent as `retry-after` in HTTP-date form: the fake's clock now + this many ms. */
  retryAfterDateMs?: number
}

/** 429 whose body says the account is out of credit (`insufficient_quota`): must not be retried. */
export interface InsufficientQuotaFault {
  kind: 'insufficient_quota'
}

/** A 5xx answer (default 500) with the provider's server-error body. */
export interface ServerErrorFault {
  kind: 'server_error'
  /** Default 500. */
  status?: number
}

/** 529 with an `overloaded_error` body (Anthropic's overload answer; sent on OpenAI paths too). */
export interface OverloadedFault {
  kind: 'overloaded'
}

/** Any status with any JSON body and headers. */
export interface StatusFault {
  kind: 'status'
  status: number
  /** Default: the provider's error envelope with type `error`. */
  body?: unknown
  headers?: Record<string, string>
}

/**
 * For streams: the SSE error event a provider sends once the response has started (Anthropic's
 * `event: error` with `overloaded_error` after `message_start`; OpenAI's `{ error }` chunk). On a
 * non-streaming request it answers 500 with the same error type.
 */
export interface StreamErrorFault {
  kind: 'stream_error'
  /** Content chunks sent before the error. Default 0: right after the stream's opening events. */
  afterChunks?: number
  /** Error type. Default 'overloaded_error' on Anthropic paths, 'server_error' on OpenAI paths. */
  type?: string
}

/** Destroys the socket: before any byte is sent, or after `afterChunks` content chunks of a stream. */
export interface ResetFault {
  kind: 'reset'
  /** For streams: content chunks sent first. Default: reset before the response starts. */
  afterChunks?: number
}

/** Stops sending and holds the connection open until the client leaves or the fake closes. */
export interface StallFault {
  kind: 'stall'
  /**
   * For streams: content chunks sent before the stall (the opening events are always sent).
   * A non-streaming request stalls before its headers. Default 0.
   */
  afterChunks?: number
}

/** Waits `ms` on the fake's clock before the first byte, then answers normally. */
export interface DelayFault {
  kind: 'delay'
  ms: number
}

export type Fault =
  | RateLimitFault
  | InsufficientQuotaFault
  | ServerErrorFault
  | OverloadedFault
  | StatusFault
  | StreamErrorFault
  | ResetFault
  | StallFault
  | DelayFault

/** Which requests a fault applies to. Every field given must match; none given matches all. */
export interface FaultMatch {
  /** The request body's `model`. */
  model?: string
  /** Request path, e.g. '/v1/messages'. */
  path?: string
  /** The API key the request carried (Bearer token or x-api-key). */
  apiKey?: string
  /** Only streaming (true) or only non-streaming (false) requests. */
  stream?: boolean
}

/** What a request is matched on. */
export interface MatchTarget {
  model: string | undefined
  path: string
  apiKey: string | undefined
  stream: boolean
}

export function matches(match: FaultMatch, target: MatchTarget): boolean {
  return (
    (match.model === undefined || match.model === target.model) &&
    (match.path === undefined || match.path === target.path) &&
    (match.apiKey === undefined || match.apiKey === target.apiKey) &&
    (match.stream === undefined || match.stream === target.stream)
  )
}

const KINDS = new Set<Fault['kind']>([
  'rate_limit',
  'insufficient_quota',
  'server_error',
  'overloaded',
  'status',
  'stream_error',
  'reset',
  'stall',
  'delay',
])

/** Rejects a malformed fault when it is scripted, not when a request happens to meet it. */
export function validateFault(owner: string, fault: unknown): Fault {
  const f = fault as Partial<Fault> | undefined
  if (typeof f !== 'object' || f === null || !KINDS.has(f.kind as Fault['kind'])) {
    throw new TypeError(
      `${owner}: fault must be an object with kind one of ${[...KINDS].join(', ')}, got ${JSON.stringify(fault)}`,
    )
  }
  if (f.kind === 'delay' && !(typeof f.ms === 'number' && f.ms >= 0)) {
    throw new RangeError(`${owner}: a delay fault needs ms >= 0, got ${String(f.ms)}`)
  }
  if (f.kind === 'status' && !(Number.isInteger(f.status) && f.status! >= 100 && f.status! <= 599)) {
    throw new RangeError(`${owner}: a status fault needs status 100…599, got ${String(f.status)}`)
  }
  return f as Fault
}
