import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/index.js'
import { circuitGuard } from '../../src/circuit/index.js'
import { compose } from '../../src/core/compose.js'
import { isTimeoutError } from '../../src/core/errors/timeout-error.js'
import { dedupeGuard } from '../../src/dedupe/index.js'
import { wrapAnthropic } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/index.js'
import {
  anthropicClient,
  anthropicText,
  caught,
  drain,
  fakeProvider,
  recording,
  user,
} from './provider-fixtures.js'

const body = (content: string) => ({ model: 'claude-x', max_tokens: 64, messages: user(content) })

describe('wrapAnthropic', () => {
  it('returns the same client type; messages.create runs through the guard as anthropic:<model>', async () => {
    const fake = await fakeProvider()
    const guard = recording(retryGuard({ maxAttempts: 1 }))
    const client = wrapAnthropic(anthropicClient(fake), guard)
    expect(client).toBeInstanceOf(Anthropic)
    const { data, request_id } = await client.messages.create(body('hi')).withResponse()
    expect(data.content).toEqual([{ type: 'text', text: 'echo: hi' }])
    expect(request_id).toBe('req_fake_1')
    expect(guard.calls[0]!.service).toBe('anthropic:claude-x')
  })

  it('K3 an overloaded 529 is retried; the SDK retries stay off', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'overloaded' })
    const client = wrapAnthropic(anthropicClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }))
    expect((await client.messages.create(body('x'))).content[0]).toEqual({ type: 'text', text: 'echo: x' })
    expect(fake.requests.map((r) => r.fault)).toEqual(['overloaded', undefined])
  })

  it('an overloaded_error after message_start is retried inside the guard', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error' })
    const client = wrapAnthropic(anthropicClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }))
    const stream = await client.messages.create({ ...body('a b'), stream: true })
    const events: string[] = []
    const text = await drain(stream, (e) => (events.push(e.type), anthropicText(e)))
    expect(text).toBe('echo: a b')
    // The retried attempt's stream is complete: its message_start was replayed, not lost.
    expect(events[0]).toBe('message_start')
    expect(events.at(-1)).toBe('message_stop')
    expect(fake.count()).toBe(2)
  })

  it('B3 a stream keeps its backpressure slot until it ends', async () => {
    const fake = await fakeProvider()
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const client = wrapAnthropic(anthropicClient(fake), backpressure)
    const stream = await client.messages.create({ ...body('a b'), stream: true })
    expect(backpressure.depth).toBe(1)
    expect((await caught(client.messages.create(body('other')))).name).toBe('BackpressureShedError')
    expect(await drain(stream, anthropicText)).toBe('echo: a b')
    await new Promise((resolve) => setImmediate(resolve))
    expect(backpressure.depth).toBe(0)
  })

  it('C5 an error after content reaches the caller once and opens the breaker through the hold', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error', afterChunks: 1 })
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const client = wrapAnthropic(
      anthropicClient(fake),
      compose(retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), circuit),
    )
    const stream = await client.messages.create({ ...body('a b'), stream: true })
    let text = ''
    const error = await caught(drain(stream, (e) => void (text += anthropicText(e) ?? '')))
    expect(text).toBe('echo: ')
    expect(error.type).toBe('overloaded_error')
    expect(fake.count()).toBe(1)
    expect(await circuit.state('anthropic:claude-x')).toBe('open')
  })

  it('T1 a stream that stalls after message_start ends with TimeoutError(idle) once content flowed', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    fake.fail({ kind: 'stall', afterChunks: 1 })
    const client = wrapAnthropic(anthropicClient(fake), timeoutGuard({ idleMs: 1_000, clock }))
    const stream = await client.messages.create({ ...body('a b'), stream: true })
    const failed = caught(drain(stream, anthropicText))
    await clock.advance(1_000)
    const error = await failed
    expect(isTimeoutError(error) && error.kind).toBe('idle')
  })

  it('U5 the same request under two API keys reaches the provider twice', async () => {
    const fake = await fakeProvider()
    const guard = dedupeGuard({ ttlMs: 60_000 })
    const a = wrapAnthropic(anthropicClient(fake, 'ak-1'), guard, { dedupe: 'always' })
    const b = wrapAnthropic(anthropicClient(fake, 'ak-2'), guard, { dedupe: 'always' })
    const q = body('q')
    await Promise.all([a.messages.create(q), b.messages.create(q), a.messages.create(q)])
    expect(fake.counts.byApiKey).toEqual({ 'ak-1': 1, 'ak-2': 1 })
  })

  it('fallbackModels: the fallback answers when the primary is overloaded for good', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'overloaded' }, { model: 'claude-x', times: 2 })
    const client = wrapAnthropic(anthropicClient(fake), retryGuard({ maxAttempts: 2, baseDelayMs: 0 }), {
      fallbackModels: ['claude-small'],
    })
    const msg = await client.messages.create(body('x'))
    expect(msg.model).toBe('claude-small')
    expect(fake.counts.byModel).toEqual({ 'claude-x': 2, 'claude-small': 1 })
  })

  it("a caller abort is never turned into a fallback or a retry; it rejects as the SDK's APIUserAbortError", async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stall' })
    const client = wrapAnthropic(anthropicClient(fake), retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), {
      fallbackModels: ['claude-small'],
    })
    const controller = new AbortController()
    const call = caught(client.messages.create(body('x'), { signal: controller.signal }))
    await fake.waitForRequests(1)
    const reason = new Error('user left')
    controller.abort(reason)
    const error = await call
    expect(error).toBeInstanceOf(Anthropic.APIUserAbortError)
    expect(fake.count()).toBe(1)
  })

  it('rejects a client or guard of the wrong shape at wrap time', () => {
    const client = new Anthropic({ apiKey: 'k' })
    const guard = retryGuard({ maxAttempts: 1 })
    expect(() => wrapAnthropic(undefined, guard)).toThrow(TypeError)
    expect(() => wrapAnthropic({}, guard)).toThrow(/client must be an SDK client/)
    expect(() => wrapAnthropic(client, {} as never)).toThrow(/guard/)
    expect(() => wrapAnthropic(client, guard, { fallbackModels: [''] })).toThrow(/fallbackModels/)
    expect(() => wrapAnthropic(client, guard, { scope: 3 as never })).toThrow(/scope/)
    expect(() => wrapAnthropic(client, guard, { dedupe: 'sometimes' as never })).toThrow(RangeError)
    expect(() => wrapAnthropic(client, guard, { onResponse: 'log' as never })).toThrow(/onResponse/)
  })
})
