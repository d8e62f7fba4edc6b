import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { estimateTextTokens } from '../../src/pipeline/tokens.js'
import { startFakeProvider, type FakeProvider } from '../../src/testing/fake-provider/index.js'
import { testClock } from '../../src/testing/test-clock.js'

let fake: FakeProvider | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function start(o?: Parameters<typeof startFakeProvider>[0]): Promise<FakeProvider> {
  fake = await startFakeProvider(o)
  return fake
}
const openai = (f: FakeProvider, apiKey = 'sk-a'): OpenAI =>
  new OpenAI({ apiKey, baseURL: f.openaiBaseURL, maxRetries: 0 })
const anthropic = (f: FakeProvider, apiKey = 'ak-a'): Anthropic =>
  new Anthropic({ apiKey, baseURL: f.url, maxRetries: 0 })
const user = (content: string) => [{ role: 'user' as const, content }]

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('fake provider: APIs', () => {
  it('answers OpenAI chat completions deterministically, with usage, and counts the request', async () => {
    const f = await start()
    const res = await openai(f).chat.completions.create({ model: 'gpt-x', messages: user('hello there') })
    expect(res.choices[0]!.message.content).toBe('echo: hello there')
    expect(res.model).toBe('gpt-x')
    // Usage is the calibrated estimate of the prompt and of the answer: 3 + 5.
    expect([estimateTextTokens('hello there'), estimateTextTokens('echo: hello there')]).toEqual([3, 5])
    expect(res.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 })
    expect(f.counts).toEqual({
      total: 1,
      byPath: { '/v1/chat/completions': 1 },
      byModel: { 'gpt-x': 1 },
      byApiKey: { 'sk-a': 1 },
    })
  })

  it('streams OpenAI chat completions as SSE chunks, with a usage chunk on request', async () => {
    const f = await start()
    const stream = await openai(f).chat.completions.create({
      model: 'gpt-x',
      messages: user('one two three'),
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: unknown
    let finish: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
    }
    expect(text).toBe('echo: one two three')
    expect(finish).toBe('stop')
    expect(usage).toMatchObject({
      prompt_tokens: estimateTextTokens('one two three'),
      completion_tokens: estimateTextTokens('echo: one two three'),
    })
    expect(f.count({ stream: true })).toBe(1)
  })

  it('answers the Responses API, streaming or not', async () => {
    const f = await start()
    const client = openai(f)
    const res = await client.responses.create({ model: 'gpt-r', input: 'ping' })
    expect(res.output_text).toBe('echo: ping')
    expect(res.usage?.output_tokens).toBe(estimateTextTokens('echo: ping'))
    const stream = await client.responses.create({ model: 'gpt-r', input: 'ping pong', stream: true })
    const types: string[] = []
    let text = ''
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'response.output_text.delta') text += event.delta
    }
    expect(text).toBe('echo: ping pong')
    expect(types[0]).toBe('response.created')
    expect(types.at(-1)).toBe('response.completed')
    expect(f.counts.byPath).toEqual({ '/v1/responses': 2 })
  })

  it('answers the Anthropic Messages API, raw stream and MessageStream helper included', async () => {
    const f = await start({ reply: ({ model, lastUserMessage }) => `${model} heard ${lastUserMessage}` })
    const client = anthropic(f)
    const msg = await client.messages.create({ model: 'claude-x', max_tokens: 64, messages: user('hi') })
    expect(msg.content).toEqual([{ type: 'text', text: 'claude-x heard hi' }])
    expect(msg.usage.output_tokens).toBe(estimateTextTokens('claude-x heard hi'))
    const stream = await client.messages.create({
      model: 'claude-x',
      max_tokens: 64,
      messages: user('yo'),
      stream: true,
    })
    const types: string[] = []
    for await (const event of stream) types.push(event.type)
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    const final = await client.messages
      .stream({ model: 'claude-x', max_tokens: 64, messages: user('z') })
      .finalMessage()
    expect(final.content).toEqual([{ type: 'text', text: 'claude-x heard z' }])
    expect(f.count({ apiKey: 'ak-a', path: '/v1/messages' })).toBe(3)
  })

  it('answers unknown paths with 404 and still counts them', async () => {
    const f = await start()
    const res = await fetch(`${f.url}/v1/unknown`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(404)
    await res.text()
    expect(f.counts.byPath).toEqual({ '/v1/unknown': 1 })
  })
})

describe('fake provider: faults', () => {
  it('rate_limit sends retry-after-ms, retry-after seconds or an HTTP date from its clock', async () => {
    const clock = testClock(Date.UTC(2030, 0, 1))
    const f = await start({ clock })
    f.fail({ kind: 'rate_limit', retryAfterMs: 1500 })
      .fail({ kind: 'rate_limit', retryAfter: 7 })
      .fail({ kind: 'rate_limit', retryAfterDateMs: 30_000 })
    const client = openai(f)
    const call = () => client.chat.completions.create({ model: 'm', messages: user('x') })
    const first = await caught(call())
    expect(first.status).toBe(429)
    expect(classifyError(first)).toMatchObject({
      retryable: true,
      reason: 'rate_limited',
      retryAfterMs: 1500,
    })
    expect(classifyError(await caught(call()))).toMatchObject({ retryAfterMs: 7000 })
    expect(classifyError(await caught(call()), { now: clock.now() })).toMatchObject({ retryAfterMs: 30_000 })
    expect((await call()).choices[0]!.message.content).toBe('echo: x')
    expect(f.count({ fault: 'rate_limit' })).toBe(3)
    expect(f.count({ fault: null })).toBe(1)
  })

  it('insufficient_quota is a 429 classified as not retryable', async () => {
    const f = await start()
    f.fail({ kind: 'insufficient_quota' })
    const error = await caught(openai(f).chat.completions.create({ model: 'm', messages: user('x') }))
    expect(error.status).toBe(429)
    expect(error.code).toBe('insufficient_quota')
    expect(classifyError(error)).toMatchObject({ retryable: false, reason: 'quota_exhausted' })
  })

  it('server_error, overloaded (529) and status faults carry the provider error shapes', async () => {
    const f = await start()
    f.fail({ kind: 'server_error', status: 503 })
      .fail({ kind: 'overloaded' })
      .fail({
        kind: 'status',
        status: 400,
        body: { type: 'error', error: { type: 'invalid_request_error', message: 'no' } },
      })
    const client = anthropic(f)
    const call = () => client.messages.create({ model: 'c', max_tokens: 8, messages: user('x') })
    const e503 = await caught(call())
    expect(e503.status).toBe(503)
    const e529 = await caught(call())
    expect(e529.status).toBe(529)
    expect(e529.type).toBe('overloaded_error')
    expect(classifyError(e529)).toMatchObject({ retryable: true, health: 'failure', reason: 'overloaded' })
    const e400 = await caught(call())
    expect(classifyError(e400)).toMatchObject({ retryable: false, reason: 'bad_request' })
  })

  it('stream_error sends an SSE error after message_start, or after n content chunks', async () => {
    const f = await start()
    f.fail({ kind: 'stream_error' }).fail({ kind: 'stream_error', afterChunks: 2, type: 'api_error' })
    const client = anthropic(f)
    const read = async () => {
      const seen: string[] = []
      const stream = await client.messages.create({
        model: 'c',
        max_tokens: 8,
        messages: user('a b c'),
        stream: true,
      })
      try {
        for await (const event of stream) seen.push(event.type)
      } catch (error) {
        return { seen, error: error as any }
      }
      return { seen, error: undefined }
    }
    const first = await read()
    expect(first.seen).toEqual(['message_start', 'content_block_start'])
    expect(first.error.status).toBeUndefined()
    expect(classifyError(first.error)).toMatchObject({ retryable: true, reason: 'overloaded' })
    const second = await read()
    expect(second.seen.filter((t) => t === 'content_block_delta')).toHaveLength(2)
    expect(classifyError(second.error)).toMatchObject({ retryable: true, reason: 'server_error' })
  })

  it('stream_error on OpenAI chat and Responses streams becomes a status-less APIError', async () => {
    const f = await start()
    f.fail({ kind: 'stream_error', afterChunks: 1 }, { times: 2 })
    const client = openai(f)
    const chat = await client.chat.completions.create({ model: 'm', messages: user('a b'), stream: true })
    const chatError = await caught(
      (async () => {
        for await (const _ of chat) void _
      })(),
    )
    expect(classifyError(chatError)).toMatchObject({ retryable: true, reason: 'server_error' })
    const responses = await client.responses.create({ model: 'm', input: 'a b', stream: true })
    const responsesError = await caught(
      (async () => {
        for await (const _ of responses) void _
      })(),
    )
    expect(classifyError(responsesError)).toMatchObject({ retryable: true, reason: 'server_error' })
  })

  it('reset destroys the socket before the response, or mid-stream after n chunks', async () => {
    const f = await start()
    f.fail({ kind: 'reset' }).fail({ kind: 'reset', afterChunks: 1 })
    const client = openai(f)
    const before = await caught(client.chat.completions.create({ model: 'm', messages: user('x') }))
    expect(classifyError(before)).toMatchObject({ retryable: true, reason: 'network' })
    const stream = await client.chat.completions.create({ model: 'm', messages: user('a b c'), stream: true })
    let text = ''
    const mid = await caught(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      })(),
    )
    expect(text).toBe('echo: ')
    expect(classifyError(mid)).toMatchObject({ retryable: true, reason: 'network' })
  })

  it('stall holds a stream open after n chunks until the client aborts', async () => {
    const f = await start()
    f.fail({ kind: 'stall', afterChunks: 1 })
    const controller = new AbortController()
    const stream = await openai(f).chat.completions.create(
      { model: 'm', messages: user('a b c'), stream: true },
      { signal: controller.signal },
    )
    const it = stream[Symbol.asyncIterator]()
    expect((await it.next()).value?.choices[0]?.delta.role).toBe('assistant')
    expect((await it.next()).value?.choices[0]?.delta.content).toBe('echo: ')
    const pending = it.next()
    let settled = false
    void pending.finally(() => (settled = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(settled).toBe(false)
    controller.abort()
    expect((await pending).done).toBe(true) // the SDK ends an aborted stream quietly
  })

  it('delay holds the first byte for ms on the injected clock', async () => {
    const clock = testClock()
    const f = await start({ clock })
    f.fail({ kind: 'delay', ms: 2000 })
    let settled = false
    const call = openai(f).chat.completions.create({ model: 'm', messages: user('x') })
    void call.finally(() => (settled = true))
    await f.waitForRequests(1)
    await clock.advance(1999)
    expect(settled).toBe(false)
    await clock.advance(1)
    expect((await call).choices[0]!.message.content).toBe('echo: x')
  })

  it('queued faults can be keyed by model and used a number of times, in order', async () => {
    const f = await start()
    f.fail({ kind: 'server_error' }, { model: 'bad', times: 2 })
    const client = openai(f)
    const call = (model: string) => client.chat.completions.create({ model, messages: user('x') })
    expect((await call('good')).model).toBe('good')
    expect((await caught(call('bad'))).status).toBe(500)
    expect(f.pendingFaults).toBe(1)
    expect((await caught(call('bad'))).status).toBe(500)
    expect((await call('bad')).model).toBe('bad')
    expect(f.counts.byModel).toEqual({ good: 1, bad: 3 })
  })

  it('a scheduled outage window fails every matching request until it ends, then recovers', async () => {
    const clock = testClock()
    const f = await start({ clock })
    f.schedule({ fault: { kind: 'server_error', status: 503 }, until: 10_000, model: 'm' })
    const client = openai(f)
    const call = (model = 'm') => client.chat.completions.create({ model, messages: user('x') })
    expect((await caught(call())).status).toBe(503)
    expect((await call('other')).model).toBe('other')
    await clock.advance(9_999)
    expect((await caught(call())).status).toBe(503)
    await clock.advance(1)
    expect((await call()).model).toBe('m')
    expect(f.count({ model: 'm', fault: 'server_error' })).toBe(2)
  })

  it('a window with times is a burst: only that many matching requests in it get the fault', async () => {
    const clock = testClock()
    const f = await start({ clock })
    f.schedule({ fault: { kind: 'rate_limit', retryAfterMs: 50 }, until: 10_000, model: 'm', times: 2 })
    const client = openai(f)
    const call = () => client.chat.completions.create({ model: 'm', messages: user('x') })
    expect((await caught(call())).status).toBe(429)
    expect((await caught(call())).status).toBe(429)
    expect((await call()).model).toBe('m')
    expect(f.count({ fault: 'rate_limit' })).toBe(2)
  })

  it('rejects malformed faults when they are scripted', async () => {
    const f = await start()
    expect(() => f.fail({ kind: 'nope' } as never)).toThrow(TypeError)
    expect(() => f.fail({ kind: 'delay', ms: -1 })).toThrow(RangeError)
    expect(() => f.fail({ kind: 'server_error' }, { times: 0 })).toThrow(RangeError)
    expect(() => f.schedule({ fault: { kind: 'overloaded' }, from: 5, until: 1 })).toThrow(RangeError)
    expect(() => f.schedule({ fault: { kind: 'overloaded' }, from: 0, until: 1, times: 0 })).toThrow(
      /"times"/,
    )
    await expect(startFakeProvider({ chunkDelayMs: -1 })).rejects.toThrow(RangeError)
  })

  it('close() ends stalled exchanges and open sockets', async () => {
    const f = await start()
    f.fail({ kind: 'stall' })
    const controller = new AbortController()
    const call = openai(f).chat.completions.create(
      { model: 'm', messages: user('x') },
      { signal: controller.signal },
    )
    const error = caught(call)
    await f.waitForRequests(1)
    await f.close()
    expect(classifyError(await error).retryable).toBe(true)
    await expect(f.waitForRequests(5)).rejects.toThrow('closed')
  })
})
