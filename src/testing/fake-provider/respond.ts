import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock } from '../../core/clock.js'
import type { Dialect, Reply, SseEvent } from './dialect.js'
import type { Fault } from './faults.js'
import { tokens } from './incoming.js'

/** What writing one response needs. */
export interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  dialect: Dialect
  clock: Clock
  /** Aborted when the client leaves or the fake closes: ends every wait of this exchange. */
  signal: AbortSignal
  requestId: string
  chunkDelayMs: number
  /** The budgets' headers as they stand when an answer's headers are written ({} without limits). */
  rateLimitHeaders: () => Record<string, string>
  /** Takes the output tokens an answer produced from the key's token budget. */
  takeOutput: (tokens: number) => void
}

/** The answer a request gets without a fault: a generated reply (JSON or a stream), or any JSON. */
export type NormalAnswer =
  { kind: 'reply'; reply: Reply; stream: boolean } | { kind: 'json'; status: number; json: unknown }

/** Answers with `fault` if there is one, else with the normal answer. */
export async function respond(x: Exchange, normal: NormalAnswer, fault: Fault | undefined): Promise<void> {
  if (fault?.kind === 'delay') {
    await x.clock.sleep(fault.ms, x.signal)
    fault = undefined
  }
  const stream = normal.kind === 'reply' && normal.stream
  if (fault === undefined) {
    if (normal.kind === 'json') return writeJson(x, normal.status, normal.json)
    if (stream) return writeStream(x, normal.reply, undefined)
    // Taken before the headers are written, so they report the whole answer.
    x.takeOutput(normal.reply.outputTokens)
    return writeJson(x, 200, x.dialect.json(normal.reply))
  }
  switch (fault.kind) {
    case 'rate_limit':
      return writeJson(x, 429, rateLimitBody(x), retryHeaders(fault, x.clock.now()))
    case 'insufficient_quota':
      return writeJson(
        x,
        429,
        errorBody(x, 'insufficient_quota', 'You exceeded your current quota.', 'insufficient_quota'),
      )
    case 'server_error':
      return writeJson(x, fault.status ?? 500, serverErrorBody(x))
    case 'overloaded':
      return writeJson(x, 529, errorBody(x, 'overloaded_error', 'Overloaded'))
    case 'status':
      return writeJson(
        x,
        fault.status,
        fault.body ?? errorBody(x, 'error', `fake status ${fault.status}`),
        fault.headers,
      )
    case 'stream_error':
      if (stream) return writeStream(x, normal.reply, fault)
      return writeJson(x, 500, errorBody(x, fault.type ?? x.dialect.defaultStreamErrorType, 'Stream error'))
    case 'reset':
      if (stream && fault.afterChunks !== undefined) return writeStream(x, normal.reply, fault)
      x.req.socket.destroy()
      return
    case 'stall':
      if (stream) return writeStream(x, normal.reply, fault)
      return untilAborted(x.signal)
  }
}

function errorBody(x: Exchange, type: string, message: string, code?: string): unknown {
  return x.dialect.errorBody(type, message, code, x.requestId)
}

function rateLimitBody(x: Exchange): unknown {
  return x.dialect.provider === 'anthropic'
    ? errorBody(x, 'rate_limit_error', 'Number of requests has exceeded your rate limit.')
    : errorBody(x, 'requests', 'Rate limit reached for requests.', 'rate_limit_exceeded')
}

function serverErrorBody(x: Exchange): unknown {
  return x.dialect.provider === 'anthropic'
    ? errorBody(x, 'api_error', 'Internal server error')
    : errorBody(x, 'server_error', 'The server had an error while processing your request.')
}

function retryHeaders(f: Extract<Fault, { kind: 'rate_limit' }>, now: number): Record<string, string> {
  const headers: Record<string, string> = {}
  if (f.retryAfterMs !== undefined) headers['retry-after-ms'] = String(f.retryAfterMs)
  if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter)
  if (f.retryAfterDateMs !== undefined) {
    headers['retry-after'] = new Date(now + f.retryAfterDateMs).toUTCString()
  }
  return headers
}

function writeJson(x: Exchange, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body)
  x.res.writeHead(status, {
    ...x.rateLimitHeaders(),
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    [x.dialect.requestIdHeader]: x.requestId,
  })
  x.res.end(text)
}

/** Writes the stream's events, cutting in with the fault after its opening events or n chunks. */
async function writeStream(x: Exchange, reply: Reply, fault: Fault | undefined): Promise<void> {
  const plan = x.dialect.stream(reply)
  x.res.writeHead(200, {
    ...x.rateLimitHeaders(),
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    [x.dialect.requestIdHeader]: x.requestId,
  })
  write(x, plan.prelude)
  let sent = plan.prelude.length
  let chunks = 0
  const cutAt = fault === undefined ? Infinity : ((fault as { afterChunks?: number }).afterChunks ?? 0)
  try {
    for (; chunks < plan.content.length; chunks++) {
      if (chunks >= cutAt) break
      if (chunks > 0 && x.chunkDelayMs > 0) await x.clock.sleep(x.chunkDelayMs, x.signal)
      write(x, [plan.content[chunks]!])
      sent++
    }
    switch (fault?.kind) {
      case undefined:
        break
      case 'stream_error': {
        const type = fault.type ?? x.dialect.defaultStreamErrorType
        const message = type === 'overloaded_error' ? 'Overloaded' : 'Stream error'
        write(x, [x.dialect.streamError(type, message, sent, x.requestId)])
        x.res.end()
        return
      }
      case 'reset':
        await flushed(x)
        x.req.socket.destroy()
        return
      case 'stall':
        return await untilAborted(x.signal)
    }
    write(x, plan.epilogue)
    x.res.end()
  } finally {
    // Output is taken as it is sent: a whole answer its usage, a cut one what reached the client.
    x.takeOutput(
      chunks === plan.content.length
        ? reply.outputTokens
        : chunks === 0
          ? 0
          : tokens(reply.pieces.slice(0, chunks).join('')),
    )
  }
}

function write(x: Exchange, events: SseEvent[]): void {
  let out = ''
  for (const e of events) out += (e.event === undefined ? '' : `event: ${e.event}\n`) + `data: ${e.data}\n\n`
  x.res.write(out)
}

/** Lets what was written reach the client before the socket is destroyed. */
function flushed(x: Exchange): Promise<void> {
  return new Promise((resolve) => x.res.write('', () => resolve()))
}

/** A wait that ends only when the client leaves or the fake closes: a stall needs no timer. */
function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
