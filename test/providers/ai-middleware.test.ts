import { generateText, streamText, wrapLanguageModel, type LanguageModelMiddleware } from 'ai'
import { describe, expect, it } from 'vitest'
import { circuitGuard } from '../../src/circuit/index.js'
import { compose } from '../../src/core/compose.js'
import { isTimeoutError } from '../../src/core/errors/timeout-error.js'
import { dedupeGuard } from '../../src/dedupe/index.js'
import { guardMiddleware } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/index.js'
import { deferred } from '../helpers/deferred.js'
import { fakeChatModel } from './fake-chat-model.js'
import { caught, fakeProvider, recording } from './provider-fixtures.js'
import type { Guard } from '../../src/core/guard.js'
import type { FakeProvider } from '../../src/testing/fake-provider/index.js'

function model(fake: FakeProvider, guard: Guard, modelId = 'gpt-ai') {
  const middleware: LanguageModelMiddleware = guardMiddleware(guard)
  return wrapLanguageModel({ model: fakeChatModel(fake.openaiBaseURL, modelId), middleware })
}

describe('guardMiddleware (AI SDK, with a fetch-based model against the fake provider)', () => {
  it('W3 runs generateText through the guard as <upstream provider>:<modelId> with per-call providerOptions', async () => {
    const fake = await fakeProvider()
    const guard = recording(retryGuard({ maxAttempts: 1 }))
    const { text } = await generateText({
      model: model(fake, guard),
      prompt: 'hello',
      maxRetries: 0,
      providerOptions: { breakwater: { priority: 'background', cost: 3 } },
    })
    expect(text).toBe('echo: hello')
    expect(guard.calls).toEqual([
      { service: 'fake:gpt-ai', key: undefined, cost: 3, priority: 'background', signal: undefined },
    ])
  })

  it('L4 a call without its own cost weighs its prompt plus maxOutputTokens, as a wrapped request does', async () => {
    const fake = await fakeProvider()
    const guard = recording(retryGuard({ maxAttempts: 1 }))
    await generateText({ model: model(fake, guard), prompt: 'hello', maxOutputTokens: 200, maxRetries: 0 })
    const cost = guard.calls[0]!.cost!
    expect(cost).toBeGreaterThan(200)
    expect(cost).toBeLessThan(250)
  })

  it('R2 a 429 with retry-after-ms is retried once after that wait; K3 insufficient_quota never', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    const retry = retryGuard({ maxAttempts: 3, clock, jitter: 'none' })
    const retried = deferred<number>()
    retry.onRetry((e) => retried.resolve(e.delayMs))
    fake.fail({ kind: 'rate_limit', retryAfterMs: 1500 })
    const call = generateText({ model: model(fake, retry), prompt: 'x', maxRetries: 0 })
    expect(await retried.promise).toBe(1500)
    await clock.advance(1499)
    expect(fake.count()).toBe(1)
    await clock.advance(1)
    expect((await call).text).toBe('echo: x')
    expect(fake.count()).toBe(2)
    fake.fail({ kind: 'insufficient_quota' })
    await caught(generateText({ model: model(fake, retry), prompt: 'x', maxRetries: 0 }))
    expect(fake.count()).toBe(3)
  })

  it('a stream whose error part comes before content is retried; the consumer sees one clean stream', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error' })
    const result = streamText({
      model: model(fake, retryGuard({ maxAttempts: 2, baseDelayMs: 0 })),
      prompt: 'a b',
      maxRetries: 0,
    })
    expect(await result.text).toBe('echo: a b')
    expect(fake.count()).toBe(2)
  })

  it('C5 an error part after content reaches the consumer, is not retried and is reported through the hold', async () => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error', afterChunks: 1 })
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 60_000 })
    const errors: unknown[] = []
    const result = streamText({
      model: model(fake, compose(retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), circuit)),
      prompt: 'a b',
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    })
    let text = ''
    for await (const delta of result.textStream) text += delta
    expect(text).toBe('echo: ')
    expect(errors).toEqual([expect.objectContaining({ type: 'server_error' })])
    expect(fake.count()).toBe(1)
    expect(await circuit.state('fake:gpt-ai')).toBe('open')
  })

  it('T1 a stalled stream ends with TimeoutError(idle)', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    fake.fail({ kind: 'stall', afterChunks: 1 })
    const wrapped = model(fake, timeoutGuard({ idleMs: 2_000, clock }))
    const { stream } = await wrapped.doStream({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'a b' }] }],
    })
    const reader = stream.getReader()
    const types: string[] = []
    for (;;) {
      const { value } = await reader.read()
      types.push(value!.type)
      if (value!.type === 'text-delta') break
    }
    expect(types).toEqual(['stream-start', 'text-start', 'text-delta'])
    const failed = caught(reader.read())
    await clock.advance(2_000)
    const error = await failed
    expect(isTimeoutError(error) && error.kind).toBe('idle')
  })

  it('U1 identical concurrent generate calls with one key reach the provider once', async () => {
    const clock = testClock()
    const fake = await fakeProvider({ clock })
    fake.fail({ kind: 'delay', ms: 5 })
    const guard = compose(dedupeGuard({ ttlMs: 0 }), retryGuard({ maxAttempts: 1 }))
    const wrapped = wrapLanguageModel({
      model: fakeChatModel(fake.openaiBaseURL, 'gpt-ai'),
      middleware: guardMiddleware(guard, { key: (params) => JSON.stringify((params as any).prompt) }),
    })
    const calls = [1, 2, 3].map(() => generateText({ model: wrapped, prompt: 'same', maxRetries: 0 }))
    await fake.waitForRequests(1)
    await clock.advance(5)
    expect((await Promise.all(calls)).map((r) => r.text)).toEqual(['echo: same', 'echo: same', 'echo: same'])
    expect(fake.count()).toBe(1)
  })

  it('rejects a guard or options of the wrong shape', () => {
    expect(() => guardMiddleware(undefined as never)).toThrow(TypeError)
    expect(() => guardMiddleware(retryGuard({ maxAttempts: 1 }), { service: 'x' as never })).toThrow(
      /service/,
    )
  })
})
