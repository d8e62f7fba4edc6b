import { describe, expect, it } from 'vitest'
import { answerFacts, foldStreamFacts, usageOf, type AnswerFacts } from '../../src/classify/answer-facts.js'
import { classifyError } from '../../src/classify/classify-error.js'
import { HttpAnswerError } from '../../src/classify/http-answer-error.js'
import { SseScanner } from '../../src/classify/sse-scanner.js'
import { classifyStreamEvent, eventData, mayMatter } from '../../src/classify/stream-events.js'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('parsing below the guards: SSE, stream events, usage, HTTP error answers', () => {
  it('K1 the SSE scanner joins events split across chunks and line ends of every kind', () => {
    const scanner = new SseScanner()
    const text =
      'event: message_start\r\ndata: {"a":\r\n\r\n: comment\ndata: 1\ndata: 2\n\nevent: ping\rdata: {}\r\r'
    const events = []
    // One byte at a time: every split point, a \r\n split in two included.
    for (const b of bytes(text)) events.push(...scanner.push(new Uint8Array([b])))
    expect(events).toEqual([
      { event: 'message_start', data: '{"a":' },
      { event: undefined, data: '1\n2' },
      { event: 'ping', data: '{}' },
    ])
  })

  it('K1 stream events: openings, content and the error events of each API, shaped for classifyError', () => {
    const kind = (api: Parameters<typeof classifyStreamEvent>[0], event: string | undefined, data: unknown) =>
      classifyStreamEvent(api, { event, data: JSON.stringify(data) }, data)
    expect(kind('anthropic-messages', 'message_start', { type: 'message_start' }).kind).toBe('opening')
    expect(kind('anthropic-messages', 'content_block_delta', { type: 'content_block_delta' }).kind).toBe(
      'content',
    )
    const overload = kind('anthropic-messages', 'error', {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    })
    expect(classifyError(overload.error)).toMatchObject({
      retryable: true,
      health: 'failure',
      reason: 'overloaded',
    })
    expect(
      kind('openai-chat', undefined, { choices: [{ delta: { role: 'assistant', content: '' } }] }).kind,
    ).toBe('opening')
    expect(kind('openai-chat', undefined, { choices: [{ delta: { content: 'hi' } }] }).kind).toBe('content')
    const chat = kind('openai-chat', undefined, { error: { type: 'server_error', message: 'boom' } })
    expect(classifyError(chat.error)).toMatchObject({ reason: 'server_error' })
    const responses = kind('openai-responses', 'response.failed', {
      type: 'response.failed',
      response: { error: { code: 'server_error', message: 'failed' } },
    })
    expect(classifyError(responses.error)).toMatchObject({ retryable: true, reason: 'server_error' })
    expect(eventData({ event: undefined, data: '[DONE]' })).toBeUndefined()
    expect(mayMatter({ event: undefined, data: '{"choices":[{"delta":{"content":"x"}}]}' })).toBe(false)
    expect(mayMatter({ event: undefined, data: '{"choices":[],"usage":{"prompt_tokens":1}}' })).toBe(true)
  })

  it('L4 usage in every provider shape; a stream keeps its last counts', () => {
    expect(usageOf({ prompt_tokens: 3, completion_tokens: 5 })).toEqual({ inputTokens: 3, outputTokens: 5 })
    expect(usageOf({ input_tokens: 2, cache_read_input_tokens: 10, output_tokens: 1 })).toEqual({
      inputTokens: 12,
      outputTokens: 1,
    })
    expect(answerFacts({ model: 'm', usage: { input_tokens: 1, output_tokens: 2 } })).toEqual({
      model: 'm',
      usage: { inputTokens: 1, outputTokens: 2 },
    })
    const facts: AnswerFacts = {}
    foldStreamFacts(facts, {
      type: 'message_start',
      message: { model: 'c', usage: { input_tokens: 4, output_tokens: 1 } },
    })
    foldStreamFacts(facts, { type: 'message_delta', usage: { output_tokens: 9 } })
    expect(facts).toEqual({ model: 'c', usage: { inputTokens: 4, outputTokens: 9 } })
  })

  it('K1 an HTTP error answer reads like the SDK error: status, headers, Retry-After, type and code', () => {
    const headers = new Headers({ 'retry-after-ms': '1500' })
    const error = new HttpAnswerError(
      429,
      headers,
      JSON.stringify({ error: { type: 'requests', code: 'rate_limit_exceeded', message: 'slow down' } }),
    )
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', message: '429 slow down' })
    expect(classifyError(error)).toMatchObject({
      retryable: true,
      reason: 'rate_limited',
      retryAfterMs: 1500,
    })
    const quota = new HttpAnswerError(
      429,
      new Headers(),
      JSON.stringify({ error: { code: 'insufficient_quota', message: 'x' } }),
    )
    expect(classifyError(quota).retryable).toBe(false)
    expect(new HttpAnswerError(502, new Headers(), 'Bad gateway').error).toBe('Bad gateway')
  })
})
