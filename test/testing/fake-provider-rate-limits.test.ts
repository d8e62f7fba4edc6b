import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { parseRateLimitHeaders } from '../../src/classify/rate-limit-headers.js'
import { estimateTextTokens } from '../../src/pipeline/tokens.js'
import { startFakeProvider, type FakeProvider } from '../../src/testing/fake-provider/index.js'
import { goDuration } from '../../src/testing/fake-provider/rate-limit-headers.js'
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
// The fake counts tokens with estimateTextTokens: 'hello there' is 3 input tokens; its answer
// 'echo: hello there' is 5 output tokens.
const chat = (client: OpenAI) =>
  client.chat.completions.create({ model: 'gpt-x', messages: user('hello there') }).withResponse()

async function caught(p: Promise<unknown>): Promise<any> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const ratelimitHeaders = (headers: Headers): Record<string, string> => {
  const out: Record<string, string> = {}
  headers.forEach((value, name) => {
    if (name.includes('ratelimit')) out[name] = value
  })
  return out
}

describe('fake provider: rate limits', () => {
  it('a request budget per API key: OpenAI headers on every answer, 429 with Retry-After once spent, refilled over the window', async () => {
    const clock = testClock()
    const f = await start({ clock, rateLimits: { requests: 2, windowMs: 1_000 } })
    const a = openai(f)
    const first = await chat(a)
    expect(ratelimitHeaders(first.response.headers)).toEqual({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '500ms',
    })
    const second = await chat(a)
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(second.response.headers.get('x-ratelimit-reset-requests')).toBe('1s')

    const refused = await caught(chat(a))
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect(refused.status).toBe(429)
    expect(refused.type).toBe('requests')
    expect(refused.code).toBe('rate_limit_exceeded')
    expect(refused.message).toContain('Limit 2, Used 2, Requested 1')
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.headers.get('retry-after-ms')).toBe('500')
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(classifyError(refused)).toMatchObject({ retryable: true, status: 429, retryAfterMs: 500 })

    // Another key has its own budget; the refused request took nothing.
    expect((await chat(openai(f, 'sk-b'))).response.headers.get('x-ratelimit-remaining-requests')).toBe('1')
    expect(f.count({ apiKey: 'sk-a', fault: 'rate_limit' })).toBe(1)
    expect(f.requests.find((r) => r.fault === 'rate_limit')?.limited).toBe('requests')

    await clock.advance(500)
    expect((await chat(a)).response.headers.get('x-ratelimit-remaining-requests')).toBe('0')
    expect(f.rateLimitState('sk-a')).toEqual({ requests: { limit: 2, remaining: 0, resetMs: 1_000 } })
  })

  it('a token budget takes the input estimate on arrival and the output produced; a long answer leaves it below zero', async () => {
    const clock = testClock()
    const f = await start({ clock, rateLimits: { tokens: 20, windowMs: 60_000 } })
    const a = openai(f)
    const first = await chat(a)
    expect(first.data.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 5 })
    // 8 of 20 used: whole again in 8 × 60 000 / 20 ms.
    expect(ratelimitHeaders(first.response.headers)).toEqual({
      'x-ratelimit-limit-tokens': '20',
      'x-ratelimit-remaining-tokens': '12',
      'x-ratelimit-reset-tokens': '24s',
    })
    expect((await chat(a)).response.headers.get('x-ratelimit-remaining-tokens')).toBe('4')
    // 3 input tokens fit in the 4 left; its 5 output tokens go on credit (-4).
    const third = await chat(a)
    expect(third.response.headers.get('x-ratelimit-remaining-tokens')).toBe('0')
    expect(third.response.headers.get('x-ratelimit-reset-tokens')).toBe('1m12s')

    const refused = await caught(chat(a))
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect(refused.type).toBe('tokens')
    expect(refused.message).toContain('tokens per min (TPM): Limit 20, Used 24, Requested 3')
    // 7 tokens short at 20 per minute.
    expect(refused.headers.get('retry-after-ms')).toBe('21000')
    expect(refused.headers.get('retry-after')).toBe('21')
    expect(f.requests.at(-1)?.limited).toBe('tokens')

    await clock.advance(21_000)
    expect((await chat(a)).response.headers.get('x-ratelimit-remaining-tokens')).toBe('0')
  })

  it('streams and embeddings: the headers report the input taken, the output is taken as it is sent', async () => {
    const clock = testClock()
    const f = await start({ clock, rateLimits: { requests: 10, tokens: 100 } })
    const { data: stream, response } = await openai(f)
      .chat.completions.create({ model: 'gpt-x', messages: user('hello there'), stream: true })
      .withResponse()
    expect(response.headers.get('x-ratelimit-remaining-tokens')).toBe('97')
    for await (const chunk of stream) void chunk
    expect(f.rateLimitState('sk-a')?.tokens?.remaining).toBe(92)

    // A stream cut after one chunk takes its input and what reached the client ('echo: ').
    const afterCut = 92 - estimateTextTokens('hello there') - estimateTextTokens('echo: ')
    f.fail({ kind: 'stream_error', afterChunks: 1 })
    const cut = await openai(f).chat.completions.create({
      model: 'gpt-x',
      messages: user('hello there'),
      stream: true,
    })
    await caught(
      (async () => {
        for await (const chunk of cut) void chunk
      })(),
    )
    expect(f.rateLimitState('sk-a')?.tokens?.remaining).toBe(afterCut)

    // Embeddings take their prompt tokens.
    const { response: embedded } = await openai(f)
      .embeddings.create({ model: 'emb-x', input: 'abcd efgh' })
      .withResponse()
    expect(embedded.headers.get('x-ratelimit-remaining-tokens')).toBe(
      String(afterCut - estimateTextTokens('abcd efgh')),
    )
  })

  it('Anthropic routes carry anthropic-ratelimit-* headers with RFC 3339 resets on the fake clock, and its 429 shape', async () => {
    const clock = testClock(Date.parse('2026-01-01T00:00:00Z'))
    const f = await start({ clock, rateLimits: { requests: 1, tokens: 1_000, windowMs: 60_000 } })
    const client = anthropic(f)
    const request = { model: 'claude-x', max_tokens: 64, messages: user('hi') }
    const { response } = await client.messages.create(request).withResponse()
    // 1 request of 1 used; 6 tokens of 1 000: 'hi' in, 'echo: hi' out, as estimateTextTokens counts
    // them — whole again in 6 × 60 000 / 1 000 = 360 ms.
    expect(estimateTextTokens('hi') + estimateTextTokens('echo: hi')).toBe(6)
    expect(ratelimitHeaders(response.headers)).toEqual({
      'anthropic-ratelimit-requests-limit': '1',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:01:00.000Z',
      'anthropic-ratelimit-tokens-limit': '1000',
      'anthropic-ratelimit-tokens-remaining': '994',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:00.360Z',
      'anthropic-ratelimit-input-tokens-limit': '1000',
      'anthropic-ratelimit-input-tokens-remaining': '994',
      'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:00.360Z',
      'anthropic-ratelimit-output-tokens-limit': '1000',
      'anthropic-ratelimit-output-tokens-remaining': '994',
      'anthropic-ratelimit-output-tokens-reset': '2026-01-01T00:00:00.360Z',
    })
    expect(parseRateLimitHeaders(response.headers, clock.now())).toMatchObject({
      provider: 'anthropic',
      requests: { limit: 1, remaining: 0, resetMs: 60_000 },
      tokens: { limit: 1_000, remaining: 994, resetMs: 360 },
    })

    await clock.advance(30_000)
    const refused = await caught(client.messages.create(request))
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError)
    expect(refused.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } })
    expect(refused.error.request_id).toBe(refused.requestID)
    expect(refused.headers.get('retry-after')).toBe('30')
    expect(refused.headers.get('retry-after-ms')).toBe('30000')
    expect(refused.headers.get('anthropic-ratelimit-requests-reset')).toBe('2026-01-01T00:01:00.000Z')
    // Routes that are not charged still report the budgets.
    const { response: counted } = await client.messages.countTokens(request).withResponse()
    expect(counted.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0')
  })

  it('OpenAI resets read back through the header parser; durations are printed the way Go prints them', async () => {
    const f = await start({ clock: testClock(), rateLimits: { requests: 600, tokens: 90_000 } })
    const { response } = await chat(openai(f))
    expect(parseRateLimitHeaders(response.headers)).toEqual({
      provider: 'openai',
      requests: { limit: 600, remaining: 599, resetMs: 100 },
      tokens: { limit: 90_000, remaining: 89_992, resetMs: 6 },
    })
    expect([0, 12, 999, 1_000, 1_500, 60_000, 360_000, 3_723_004].map(goDuration)).toEqual([
      '0s',
      '12ms',
      '999ms',
      '1s',
      '1.5s',
      '1m0s',
      '6m0s',
      '1h2m3.004s',
    ])
  })

  it('setRateLimits switches budgets on, off and to new limits at run time; bad limits are refused naming the option', async () => {
    const clock = testClock()
    const f = await start({ clock })
    expect(f.rateLimits).toBeUndefined()
    expect(ratelimitHeaders((await chat(openai(f))).response.headers)).toEqual({})
    f.setRateLimits({ requests: 1 })
    expect(f.rateLimits).toEqual({ requests: 1, windowMs: 60_000 })
    await chat(openai(f))
    expect((await caught(chat(openai(f)))).status).toBe(429)
    f.setRateLimits({ requests: 5, windowMs: 1_000 })
    expect((await chat(openai(f))).response.headers.get('x-ratelimit-remaining-requests')).toBe('4')
    f.setRateLimits(undefined)
    expect(ratelimitHeaders((await chat(openai(f))).response.headers)).toEqual({})
    expect(f.rateLimitState('sk-a')).toBeUndefined()

    expect(() => f.setRateLimits({ requests: 0 })).toThrow(RangeError)
    expect(() => f.setRateLimits({ requests: 0 })).toThrow(/setRateLimits: option "rateLimits.requests"/)
    expect(() => f.setRateLimits({ tokens: Number.NaN })).toThrow(/"rateLimits.tokens"/)
    expect(() => f.setRateLimits({ windowMs: 1_000 })).toThrow(
      /"rateLimits" must be an object with requests or tokens/,
    )
    expect(() => f.setRateLimits('fast' as never)).toThrow(TypeError)
    await expect(startFakeProvider({ rateLimits: { requests: -1 } })).rejects.toThrow(
      /startFakeProvider: option "rateLimits.requests"/,
    )
  })

  it('a request over budget meets no scripted fault, and a scripted 429 takes no budget', async () => {
    const f = await start({ clock: testClock(), rateLimits: { requests: 1 } })
    const a = openai(f)
    f.fail({ kind: 'rate_limit', retryAfterMs: 10 })
    expect((await caught(chat(a))).headers.get('retry-after-ms')).toBe('10')
    expect(f.rateLimitState('sk-a')?.requests?.remaining).toBe(1)
    await chat(a)
    f.fail({ kind: 'server_error' })
    expect((await caught(chat(a))).status).toBe(429)
    expect(f.pendingFaults).toBe(1)
  })

  it('without an injected clock the budgets run on real time', async () => {
    const before = Date.now()
    const f = await start({ rateLimits: { requests: 1, windowMs: 3_600_000 } })
    const { response } = await anthropic(f)
      .messages.create({ model: 'claude-x', max_tokens: 8, messages: user('hi') })
      .withResponse()
    const reset = Date.parse(response.headers.get('anthropic-ratelimit-requests-reset')!)
    expect(reset).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(reset).toBeLessThanOrEqual(Date.now() + 3_600_000)
  })
})
