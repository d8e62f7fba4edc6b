import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/index.js'
import { circuitGuard } from '../../src/circuit/index.js'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { isTimeoutError } from '../../src/core/errors/timeout-error.js'
import { estimateTextTokens } from '../../src/pipeline/tokens.js'
import {
  breakwaterOptions,
  DEFAULT_OUTPUT_TOKENS,
  estimateRequestCost,
  wrapAnthropic,
  wrapOpenAI,
  type ProviderResponse,
} from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/index.js'
import { deferred } from '../helpers/deferred.js'
import {
  anthropicClient,
  anthropicText,
  caught,
  chatText,
  drain,
  fakeProvider,
  openaiClient,
  recording,
  user,
} from './provider-fixtures.js'

describe('the guarded transport of a wrapped client', () => {
  it('W1 a copy made with withOptions() stays guarded, with the SDK retries still off; the original is untouched', async () => {
    const fake = await fakeProvider()
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const plain = openaiClient(fake)
    const client = wrapOpenAI(plain, circuit)
    expect(plain.maxRetries).toBe(2)
    expect(client.maxRetries).toBe(0)
    const copy = client.withOptions({ maxRetries: 4, timeout: 9_000 })
    expect(copy).toBeInstanceOf(OpenAI)
    expect(copy.maxRetries).toBe(0)
    await circuit.isolate('openai:m')
    const error = await caught(copy.chat.completions.create({ model: 'm', messages: user('x') }))
    expect(isBrokenCircuitError(error)).toBe(true)
    expect(fake.count()).toBe(0)
    // A copy given its own fetch is guarded around that fetch.
    const seen: string[] = []
    const own = client.withOptions({
      fetch: (url: string | URL | Request, init?: RequestInit) => {
        seen.push(String(url))
        return fetch(url, init)
      },
    })
    await own.chat.completions.create({ model: 'n', messages: user('y') })
    expect(seen).toEqual([`${fake.openaiBaseURL}/chat/completions`])
    expect(await caught(own.chat.completions.create({ model: 'm', messages: user('x') }))).toBeInstanceOf(
      Error,
    )
    expect(seen).toHaveLength(1)
  })

  it("guard rejections reach the caller as breakwater's own errors, never wrapped in an APIConnectionError", async () => {
    const fake = await fakeProvider()
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const client = wrapAnthropic(anthropicClient(fake), backpressure)
    const stream = await client.messages.create({
      model: 'c',
      max_tokens: 8,
      messages: user('a b'),
      stream: true,
    })
    const shed = await caught(client.messages.create({ model: 'c', max_tokens: 8, messages: user('x') }))
    expect(isBackpressureShedError(shed)).toBe(true)
    expect(shed).not.toBeInstanceOf(Anthropic.APIConnectionError)
    expect(await drain(stream, anthropicText)).toBe('echo: a b')

    const clock = testClock()
    fake.fail({ kind: 'stall' })
    const timed = wrapOpenAI(openaiClient(fake), timeoutGuard({ attemptMs: 1_000, clock }))
    const call = caught(timed.chat.completions.create({ model: 'm', messages: user('x') }))
    await fake.waitForRequests(2)
    await clock.advance(1_000)
    const error = await call
    expect(isTimeoutError(error) && error.kind).toBe('attempt')
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError)
  })

  it('a 429 reaches the caller as the SDK RateLimitError with the status and headers the provider sent', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'rate_limit', retryAfterMs: 70_000 })
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 3 }))
    const error = await caught(client.chat.completions.create({ model: 'm', messages: user('x') }))
    // A wait beyond the 60 s cap is not slept: the guard gives up at once (R2).
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.headers.get('retry-after-ms')).toBe('70000')
    expect(error.code).toBe('rate_limit_exceeded')
    expect(fake.count()).toBe(1)
  })

  it("L4 a call's cost is the request's estimate unless the caller gives one", async () => {
    const fake = await fakeProvider()
    const guard = recording(retryGuard({ maxAttempts: 1 }))
    const client = wrapAnthropic(anthropicClient(fake), guard)
    // About 200 tokens of prose (o200k), plus the 100 the answer may use.
    const body = {
      model: 'c',
      max_tokens: 100,
      messages: user('The quick brown fox jumps over the lazy dog. '.repeat(20)),
    }
    await client.messages.create(body)
    await client.messages.create(body, breakwaterOptions({ cost: 3 }))
    await client.messages.countTokens({ model: 'c', messages: user('y') })
    expect(guard.calls.map((c) => c.cost)).toEqual([estimateRequestCost(body, 'chat'), 3, expect.any(Number)])
    expect(estimateRequestCost(body, 'chat')).toBeGreaterThan(280)
    expect(estimateRequestCost({ messages: user('z') }, 'chat')).toBeGreaterThan(DEFAULT_OUTPUT_TOKENS)
    expect(estimateRequestCost({ input: 'z' }, 'embeddings')).toBeLessThan(10)
  })

  it('rejects malformed per-call options with a TypeError naming them', async () => {
    const fake = await fakeProvider()
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 1 }))
    const bad = await caught(
      client.chat.completions.create({ model: 'm', messages: user('x') }, { breakwater: 3 } as never),
    )
    expect(bad).toBeInstanceOf(TypeError)
    expect(bad.message).toMatch(/"breakwater"/)
    const key = await caught(
      client.chat.completions.create(
        { model: 'm', messages: user('x') },
        breakwaterOptions({ key: 1 as never }),
      ),
    )
    expect(key.message).toMatch(/breakwater\.key/)
    expect(fake.count()).toBe(0)
  })
})

describe('onResponse: one report per provider answer', () => {
  it('reports service, model, operation, status, headers and usage of each attempt, a 429 included', async () => {
    const fake = await fakeProvider()
    const reports: ProviderResponse[] = []
    fake.fail({ kind: 'rate_limit', retryAfterMs: 0 })
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }), {
      onResponse: (r) => reports.push(r),
    })
    await client.chat.completions.create({ model: 'gpt-o', messages: user('count me') })
    await client.embeddings.create({ model: 'emb', input: 'abcd' })
    // The fake's usage is the calibrated estimate of the prompt and of its answer.
    const chat = {
      inputTokens: estimateTextTokens('count me'),
      outputTokens: estimateTextTokens('echo: count me'),
    }
    expect(reports.map((r) => [r.service, r.operation, r.status, r.attempt, r.usage])).toEqual([
      ['openai:gpt-o', 'chat', 429, 1, undefined],
      ['openai:gpt-o', 'chat', 200, 2, chat],
      ['openai:emb', 'embeddings', 200, 1, { inputTokens: estimateTextTokens('abcd') }],
    ])
    expect(reports[0]!.headers.get('retry-after-ms')).toBe('0')
    expect(reports[1]).toMatchObject({
      provider: 'openai',
      model: 'gpt-o',
      responseModel: 'gpt-o',
      stream: false,
    })
  })

  it("reports a stream when it ends, with its final usage event and the time to first content on the wrapper's clock", async () => {
    const clock = testClock()
    const fake = await fakeProvider({ clock, chunkDelayMs: 50 })
    const ended = deferred<ProviderResponse>()
    fake.fail({ kind: 'delay', ms: 200 })
    const client = wrapAnthropic(anthropicClient(fake), retryGuard({ maxAttempts: 1, clock }), {
      clock,
      onResponse: (r) => ended.resolve(r),
    })
    const opened = client.messages.create({
      model: 'c',
      max_tokens: 8,
      messages: user('a b c'),
      stream: true,
    })
    await fake.waitForRequests(1)
    await clock.advance(200)
    const stream = await opened
    const text = drain(stream, anthropicText)
    for (let i = 0; i < 3; i++) await clock.advance(50)
    expect(await text).toBe('echo: a b c')
    const r = await ended.promise
    expect(r).toMatchObject({
      service: 'anthropic:c',
      operation: 'chat',
      status: 200,
      stream: true,
      responseModel: 'c',
      usage: { inputTokens: estimateTextTokens('a b c'), outputTokens: estimateTextTokens('echo: a b c') },
      timeToFirstContentMs: 200,
      durationMs: 350,
    })
    expect(r.headers.get('request-id')).toBe('req_fake_1')
  })

  it('reports the usage chunk of an OpenAI stream, and a listener that throws never breaks the call', async () => {
    const fake = await fakeProvider()
    const reports: ProviderResponse[] = []
    const warned = deferred<Error>()
    process.once('warning', (w) => warned.resolve(w))
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 1 }), {
      onResponse: (r) => {
        reports.push(r)
        throw new Error('listener bug')
      },
    })
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: user('a b'),
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(await drain(stream, chatText)).toBe('echo: a b')
    expect(reports.map((r) => r.usage)).toEqual([
      { inputTokens: estimateTextTokens('a b'), outputTokens: estimateTextTokens('echo: a b') },
    ])
    expect((await warned.promise).message).toBe('listener bug')
  })
})
