import OpenAI from 'openai'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { circuitGuard } from '../../src/circuit/index.js'
import { compose } from '../../src/core/compose.js'
import { isTimeoutError } from '../../src/core/errors/timeout-error.js'
import { dedupeGuard } from '../../src/dedupe/index.js'
import { instrument } from '../../src/metrics/instrument.js'
import { breakwaterOptions, wrapOpenAI } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/index.js'
import { deferred } from '../helpers/deferred.js'
import { caught, chatText, drain, fakeProvider, openaiClient, recording, user } from './provider-fixtures.js'

const noRetry = () => retryGuard({ maxAttempts: 1 })

describe('wrapOpenAI', () => {
  it('W1 returns a client of the same class whose requests run through the guard as openai:<model>, SDK retries off', async () => {
    const fake = await fakeProvider()
    const guard = recording(noRetry())
    const client = wrapOpenAI(openaiClient(fake), guard)
    expect(client).toBeInstanceOf(OpenAI)
    expect(client.baseURL).toBe(fake.openaiBaseURL)
    const res = await client.chat.completions.create(
      { model: 'gpt-x', messages: user('hi') },
      breakwaterOptions({ priority: 'background', cost: 7 }, { timeout: 5_000 }),
    )
    expect(res.choices[0]!.message.content).toBe('echo: hi')
    expect(guard.calls).toEqual([
      {
        service: 'openai:gpt-x',
        // A sampled request (no temperature 0) is never merged by default (W2).
        key: undefined,
        cost: 7,
        priority: 'background',
        // The SDK's own signal for the request: it follows the caller's and the SDK's timeout.
        signal: expect.any(AbortSignal),
      },
    ])
    fake.fail({ kind: 'server_error' })
    const error = await caught(client.chat.completions.create({ model: 'gpt-x', messages: user('hi') }))
    expect(error.status).toBe(500)
    // The client was built with the SDK's default of 2 retries: only ours may run.
    expect(fake.count({ fault: 'server_error' })).toBe(1)
  })

  it('keeps withResponse() and asResponse() working, with an unread body for asResponse()', async () => {
    const fake = await fakeProvider()
    const client = wrapOpenAI(openaiClient(fake), noRetry())
    const { data, response, request_id } = await client.chat.completions
      .create({ model: 'm', messages: user('a') })
      .withResponse()
    expect(data.choices[0]!.message.content).toBe('echo: a')
    expect(response.status).toBe(200)
    expect(request_id).toBe('req_fake_1')
    const raw = await client.chat.completions.create({ model: 'm', messages: user('b') }).asResponse()
    expect(((await raw.json()) as any).choices[0].message.content).toBe('echo: b')
    const res = await client.responses.create({ model: 'm', input: 'c' })
    expect(res.output_text).toBe('echo: c')
  })

  it('R2 a 429 with retry-after-ms: 1500 is retried exactly once, after 1.5 s on the guard clock', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    const retry = retryGuard({ maxAttempts: 3, clock, jitter: 'none' })
    const retried = deferred<number>()
    retry.onRetry((e) => retried.resolve(e.delayMs))
    fake.fail({ kind: 'rate_limit', retryAfterMs: 1500 })
    const client = wrapOpenAI(openaiClient(fake), retry)
    const call = client.chat.completions.create({ model: 'm', messages: user('x') })
    expect(await retried.promise).toBe(1500)
    await clock.advance(1499)
    expect(fake.count()).toBe(1)
    await clock.advance(1)
    expect((await call).choices[0]!.message.content).toBe('echo: x')
    expect(fake.count()).toBe(2)
    expect(fake.requests.map((r) => r.fault)).toEqual(['rate_limit', undefined])
  })

  it('K3 insufficient_quota is not retried', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'insufficient_quota' })
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 5, baseDelayMs: 0 }))
    const error = await caught(client.chat.completions.create({ model: 'm', messages: user('x') }))
    expect(error.code).toBe('insufficient_quota')
    expect(fake.count()).toBe(1)
  })

  it('a stream error before the first content is retried inside the guard', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error' })
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }))
    const stream = await client.chat.completions.create({ model: 'm', messages: user('a b'), stream: true })
    expect(await drain(stream, chatText)).toBe('echo: a b')
    expect(fake.count()).toBe(2)
  })

  it('C5 an error after content reaches the caller once, is not retried and is reported through the hold', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error', afterChunks: 2 })
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const guard = compose(retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), circuit)
    const client = wrapOpenAI(openaiClient(fake), guard)
    const stream = await client.chat.completions.create({ model: 'm', messages: user('a b c'), stream: true })
    let text = ''
    const error = await caught(drain(stream, (c) => void (text += chatText(c) ?? '')))
    expect(text).toBe('echo: a ')
    expect(error.error?.type ?? error.type).toBe('server_error')
    expect(fake.count()).toBe(1)
    expect(await circuit.state('openai:m')).toBe('open')
  })

  it('T1 a stalled stream ends with TimeoutError(idle) on the guard clock', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    fake.fail({ kind: 'stall', afterChunks: 1 })
    const client = wrapOpenAI(openaiClient(fake), timeoutGuard({ idleMs: 5_000, clock }))
    const stream = await client.chat.completions.create({ model: 'm', messages: user('a b'), stream: true })
    const it = stream[Symbol.asyncIterator]()
    expect((await it.next()).value?.choices[0]?.delta.role).toBe('assistant')
    expect(chatText((await it.next()).value!)).toBe('echo: ')
    const next = caught(it.next())
    await clock.advance(5_000)
    const error = await next
    expect(isTimeoutError(error) && error.kind).toBe('idle')
  })

  it('U1 three identical concurrent non-streaming requests reach the provider once', async () => {
    const clock = testClock()
    const fake = await fakeProvider({ clock })
    fake.fail({ kind: 'delay', ms: 10 })
    const client = wrapOpenAI(openaiClient(fake), compose(dedupeGuard({ ttlMs: 0 }), noRetry()))
    const body = { model: 'm', messages: user('same'), temperature: 0 }
    const calls = [1, 2, 3].map(() => client.chat.completions.create({ ...body }))
    await fake.waitForRequests(1)
    await clock.advance(10)
    const answers = await Promise.all(calls)
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual([
      'echo: same',
      'echo: same',
      'echo: same',
    ])
    expect(fake.count()).toBe(1)
  })

  it('U5 the same request under two API keys reaches the provider twice', async () => {
    const fake = await fakeProvider()
    const guard = compose(dedupeGuard({ ttlMs: 60_000 }), noRetry())
    const a = wrapOpenAI(openaiClient(fake, 'sk-tenant-a'), guard)
    const b = wrapOpenAI(openaiClient(fake, 'sk-tenant-b'), guard)
    const body = { model: 'm', messages: user('same'), temperature: 0 }
    await a.chat.completions.create(body)
    await b.chat.completions.create(body)
    await a.chat.completions.create(body) // cached for tenant a
    expect(fake.counts.byApiKey).toEqual({ 'sk-tenant-a': 1, 'sk-tenant-b': 1 })
  })

  it('C2 an outage opens the breaker: later calls never reach the provider until the probe', async () => {
    const clock = testClock()
    const fake = await fakeProvider({ clock })
    fake.schedule({ fault: { kind: 'server_error', status: 503 }, until: 5_000 })
    const circuit = circuitGuard({ threshold: 3, recoveryMs: 5_000, clock, random: () => 0 })
    const client = wrapOpenAI(openaiClient(fake), circuit)
    const call = () => client.chat.completions.create({ model: 'm', messages: user('x') })
    for (let i = 0; i < 3; i++) expect((await caught(call())).status).toBe(503)
    for (let i = 0; i < 5; i++) expect((await caught(call())).name).toBe('BrokenCircuitError')
    expect(fake.count()).toBe(3)
    await clock.advance(5_000)
    expect((await call()).model).toBe('m')
    expect(fake.count()).toBe(4)
    expect(await circuit.state('openai:m')).toBe('closed')
  })

  it('fallbackModels: with the primary breaker open, the fallback model answers', async () => {
    const fake = await fakeProvider()
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const client = wrapOpenAI(openaiClient(fake), circuit, { fallbackModels: ['backup'] })
    await circuit.isolate('openai:main')
    const res = await client.chat.completions.create({ model: 'main', messages: user('x') })
    expect(res.model).toBe('backup')
    expect(fake.counts.byModel).toEqual({ backup: 1 })
  })

  it('M27 onFallback hears each move to the next model; the metrics handle counts it in fallbacks_total', async () => {
    const fake = await fakeProvider()
    const registry = new Registry()
    const metrics = instrument(registry)
    const heard: unknown[] = []
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const client = wrapOpenAI(openaiClient(fake), circuit, {
      fallbackModels: ['backup', 'last'],
      onFallback: (f) => {
        heard.push(f)
        metrics.onFallback(f)
      },
    })
    await circuit.isolate('openai:main')
    await circuit.isolate('openai:backup')
    const res = await client.chat.completions.create({ model: 'main', messages: user('x') })
    expect(res.model).toBe('last')
    expect(heard).toEqual([
      { from: 'openai:main', to: 'openai:backup' },
      { from: 'openai:backup', to: 'openai:last' },
    ])
    const counted = await registry.getSingleMetric('breakwater_fallbacks_total')!.get()
    expect(counted.values.map((v) => [v.labels.from, v.labels.to, v.value])).toEqual([
      ['openai:main', 'openai:backup', 1],
      ['openai:backup', 'openai:last', 1],
    ])
    metrics.dispose()
  })

  it('fallbackModels: a model that fails for good hands the request to the next, never on a 4xx', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'server_error' }, { model: 'main', times: 2 })
    const client = wrapOpenAI(openaiClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }), {
      fallbackModels: ['backup'],
    })
    const stream = await client.chat.completions.create({ model: 'main', messages: user('y'), stream: true })
    expect(await drain(stream, chatText)).toBe('echo: y')
    expect(fake.counts.byModel).toEqual({ main: 2, backup: 1 })
    fake.fail({ kind: 'status', status: 400 }, { model: 'main' })
    expect(
      (await caught(client.chat.completions.create({ model: 'main', messages: user('z') }))).status,
    ).toBe(400)
    expect(fake.counts.byModel).toEqual({ main: 3, backup: 1 })
  })
})
