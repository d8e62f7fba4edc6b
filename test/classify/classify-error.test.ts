import * as Anthropic from '@anthropic-ai/sdk'
import { APICallError } from 'ai'
import * as OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { BackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { BrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { classifyError } from '../../src/classify/classify-error.js'

const headers = (h: Record<string, string>): Headers => new Headers(h)
const openaiError = (status: number, body: object, h: Record<string, string> = {}) =>
  OpenAI.APIError.generate(status, body, undefined, headers(h))
const anthropicError = (status: number, body: object, h: Record<string, string> = {}) =>
  Anthropic.APIError.generate(status, body, undefined, headers(h))

describe('K1 classifyError is duck-typed across error shapes', () => {
  it('K1 reads OpenAI SDK errors (status, headers, code)', () => {
    const err = openaiError(
      429,
      { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } },
      {
        'retry-after-ms': '1500',
      },
    )
    expect(classifyError(err)).toEqual({
      retryable: true,
      health: 'ignore',
      reason: 'rate_limited',
      status: 429,
      retryAfterMs: 1500,
    })
  })

  it('K1 reads Anthropic SDK errors, including 529 overloaded_error', () => {
    const err = anthropicError(529, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    })
    expect(classifyError(err)).toMatchObject({
      retryable: true,
      health: 'failure',
      reason: 'overloaded',
      status: 529,
    })
  })

  it('K1 reads AI SDK APICallError (statusCode, responseHeaders)', () => {
    const err = new APICallError({
      message: 'Service Unavailable',
      url: 'http://x',
      requestBodyValues: {},
      statusCode: 503,
      responseHeaders: { 'Retry-After': '2' },
    })
    expect(classifyError(err)).toMatchObject({
      retryable: true,
      health: 'failure',
      reason: 'server_error',
      status: 503,
      retryAfterMs: 2000,
    })
  })

  it('K1 reads headers from a plain object, a Headers instance and response.headers', () => {
    expect(classifyError({ status: 429, headers: { 'Retry-After-Ms': '10' } }).retryAfterMs).toBe(10)
    expect(classifyError({ status: 429, headers: headers({ 'retry-after': '3' }) }).retryAfterMs).toBe(3000)
    expect(
      classifyError({ response: { status: 429, headers: headers({ 'retry-after': '1' }) } }),
    ).toMatchObject({
      status: 429,
      retryAfterMs: 1000,
    })
  })

  it('K1 parses an HTTP-date Retry-After against the given clock', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    const err = { status: 503, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' } }
    expect(classifyError(err, { now }).retryAfterMs).toBe(5000)
  })

  it('K1 recognises network errors: fetch failed with an undici cause, socket codes, SDK connection errors', () => {
    const fetchFailed = new TypeError('fetch failed', {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    })
    expect(classifyError(fetchFailed)).toMatchObject({
      retryable: true,
      health: 'failure',
      reason: 'network',
    })
    expect(classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({
      reason: 'network',
      retryable: true,
    })
    expect(classifyError(new OpenAI.APIConnectionError({ message: 'down' }))).toMatchObject({
      reason: 'network',
      retryable: true,
    })
    expect(classifyError(new Anthropic.APIConnectionTimeoutError())).toMatchObject({
      reason: 'timeout',
      retryable: true,
      health: 'failure',
    })
    const headersTimeout = Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' })
    expect(classifyError(headersTimeout)).toMatchObject({ reason: 'timeout', retryable: true })
  })

  it('K1 classifies errors that arrive mid-stream by type (no status)', () => {
    const midStream = new Anthropic.APIError(
      undefined,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      'Overloaded',
      undefined,
    )
    expect(classifyError(midStream)).toEqual({ retryable: true, health: 'failure', reason: 'overloaded' })
    const openaiMid = new OpenAI.APIError(
      undefined,
      { type: 'server_error', message: 'boom' },
      'boom',
      undefined,
    )
    expect(classifyError(openaiMid)).toMatchObject({
      retryable: true,
      health: 'failure',
      reason: 'server_error',
    })
  })

  it('K1 works with a copy of an SDK it has never seen (pure shapes)', () => {
    const foreign = {
      name: 'RateLimitError',
      status: 429,
      headers: { 'retry-after': '0' },
      error: { type: 'rate_limit_error' },
    }
    expect(classifyError(foreign)).toMatchObject({ reason: 'rate_limited', retryAfterMs: 0, retryable: true })
  })
})

describe('K2 health', () => {
  it.each([500, 502, 503, 504, 529, 408])('K2 %i is a failure', (status) => {
    expect(classifyError({ status }).health).toBe('failure')
  })

  it.each([400, 401, 403, 404, 422])('K2 %i proves the provider answered: success', (status) => {
    expect(classifyError({ status }).health).toBe('success')
  })

  it('K2 timeouts, connection errors and mid-stream overload are failures', () => {
    expect(classifyError(new TimeoutError('attempt', 10)).health).toBe('failure')
    expect(classifyError(Object.assign(new Error(), { code: 'ETIMEDOUT' })).health).toBe('failure')
    expect(classifyError({ error: { type: 'overloaded_error' } }).health).toBe('failure')
  })

  it('K2 anything is ignored when the caller signal is aborted, whatever the reason', () => {
    const controller = new AbortController()
    controller.abort(new Error('user left'))
    expect(classifyError({ status: 503 }, { signal: controller.signal })).toMatchObject({
      health: 'ignore',
      reason: 'aborted',
      retryable: false,
      status: 503,
    })
    expect(classifyError(new Error('whatever'), { signal: controller.signal }).health).toBe('ignore')
  })

  it('K2 our own rejections are ignored', () => {
    expect(classifyError(new BrokenCircuitError('openai:gpt', 100))).toMatchObject({
      health: 'ignore',
      reason: 'circuit_open',
      retryable: false,
    })
    expect(
      classifyError(new BackpressureShedError({ depth: 1, capacity: 1, reason: 'hard_limit' })),
    ).toMatchObject({
      health: 'ignore',
      reason: 'shed',
      retryable: false,
    })
  })

  it('K2 a 429 is ignored for the failure count but carries its Retry-After for the cooldown', () => {
    expect(classifyError({ status: 429, headers: { 'retry-after': '7' } })).toMatchObject({
      health: 'ignore',
      retryAfterMs: 7000,
    })
  })

  it('K2 an abort error is ignored even without the signal', () => {
    expect(classifyError(new OpenAI.APIUserAbortError()).health).toBe('ignore')
    expect(classifyError(new DOMException('aborted', 'AbortError')).health).toBe('ignore')
  })
})

describe('K3 retryable', () => {
  it.each([408, 409, 429, 500, 502, 503, 504, 529])('K3 %i is retryable', (status) => {
    expect(classifyError({ status }).retryable).toBe(true)
  })

  it.each([400, 401, 403, 404, 422])('K3 %i is never retried', (status) => {
    expect(classifyError({ status }).retryable).toBe(false)
  })

  it('K3 quota exhaustion is never retried, even as a 429 or with x-should-retry: true', () => {
    const quota = openaiError(
      429,
      { error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' } },
      {
        'x-should-retry': 'true',
      },
    )
    expect(classifyError(quota)).toMatchObject({ retryable: false, reason: 'quota_exhausted' })
    expect(classifyError({ status: 402 }).retryable).toBe(false)
  })

  it('K3 attempt timeouts retry, total timeouts do not', () => {
    expect(classifyError(new TimeoutError('attempt', 1)).retryable).toBe(true)
    expect(classifyError(new TimeoutError('total', 1)).retryable).toBe(false)
  })

  it('K3 aborts are never retried, also when fetch wraps undici\'s abort as "fetch failed"', () => {
    expect(classifyError(new Anthropic.APIUserAbortError()).retryable).toBe(false)
    const wrapped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('aborted'), { code: 'UND_ERR_ABORTED' }),
    })
    expect(classifyError(wrapped)).toMatchObject({ retryable: false, health: 'ignore', reason: 'aborted' })
  })

  it('K3 x-should-retry: false forbids a retry; true allows one', () => {
    expect(classifyError({ status: 503, headers: { 'x-should-retry': 'false' } }).retryable).toBe(false)
    expect(classifyError({ status: 400, headers: { 'x-should-retry': 'true' } }).retryable).toBe(true)
  })

  it('K3 an unknown error is a failure but not retried', () => {
    expect(classifyError(new TypeError('undefined is not a function'))).toEqual({
      retryable: false,
      health: 'failure',
      reason: 'unknown',
    })
    expect(classifyError('a string')).toEqual({ retryable: false, health: 'failure', reason: 'unknown' })
  })
})

describe('P11 context overflow', () => {
  it('P11 context_overflow: OpenAI 400 context_length_exceeded and Anthropic "prompt is too long" are their own reason, never retried as is', () => {
    const overflow = { retryable: false, health: 'success', reason: 'context_overflow', status: 400 }
    const openai = openaiError(400, {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    })
    const anthropic = anthropicError(400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'prompt is too long: 215000 tokens > 200000 maximum' },
    })
    const aiSdk = new APICallError({
      message: 'prompt is too long: 215000 tokens > 200000 maximum',
      url: 'http://x',
      requestBodyValues: {},
      statusCode: 400,
      data: {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'prompt is too long: 215000 tokens > 200000 maximum',
        },
      },
    })
    for (const err of [openai, anthropic, aiSdk]) expect(classifyError(err)).toEqual(overflow)
    // Mid-stream (no status), as the Responses API reports it.
    expect(classifyError({ type: 'error', code: 'context_length_exceeded' })).toMatchObject({
      reason: 'context_overflow',
    })
    // Other invalid requests stay bad_request.
    const other = anthropicError(400, {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: must be positive' },
    })
    expect(classifyError(other)).toMatchObject({ reason: 'bad_request' })
  })
})
