import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import {
  generateObject,
  generateText,
  jsonSchema,
  streamObject,
  streamText,
  wrapLanguageModel,
  type LanguageModel,
} from 'ai'
import { describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { circuitGuard } from '../../src/circuit/index.js'
import { compose } from '../../src/core/compose.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import type { Guard } from '../../src/core/guard.js'
import { guardMiddleware, wrapOpenAI } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import type { FakeProvider } from '../../src/testing/fake-provider/index.js'
import { caught, fakeProvider, openaiClient, user } from './provider-fixtures.js'

// The AI SDK warns about unknown model ids of the fake; the tests need no such noise.
;(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false

/** The fake answers JSON, so text and object calls alike can read it. */
const reply = ({ lastUserMessage }: { lastUserMessage: string }) =>
  JSON.stringify({ answer: lastUserMessage })
const schema = jsonSchema<{ answer: string }>({
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
})

interface Provider {
  name: string
  service: string
  path: string
  model(fake: FakeProvider): LanguageModel
}
const PROVIDERS: Provider[] = [
  {
    name: '@ai-sdk/openai (openai.responses)',
    service: 'openai:gpt-r',
    path: '/v1/responses',
    model: (f) => createOpenAI({ apiKey: 'sk', baseURL: f.openaiBaseURL })('gpt-r'),
  },
  {
    name: '@ai-sdk/openai (openai.chat)',
    service: 'openai:gpt-c',
    path: '/v1/chat/completions',
    model: (f) => createOpenAI({ apiKey: 'sk', baseURL: f.openaiBaseURL }).chat('gpt-c'),
  },
  {
    name: '@ai-sdk/anthropic (anthropic.messages)',
    service: 'anthropic:claude-x',
    path: '/v1/messages',
    model: (f) => createAnthropic({ apiKey: 'ak', baseURL: `${f.url}/v1` })('claude-x'),
  },
]

/** One AI SDK entry point, run to its end: what it produced, or the error it ended with. */
interface Entry {
  name: string
  stream: boolean
  run(model: LanguageModel): Promise<{ value?: unknown; error?: unknown }>
}
// As the README says: the AI SDK's own retries off, so only the guard retries.
const common = { prompt: 'hi', maxRetries: 0, maxOutputTokens: 64 }
const settle = async (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
const ENTRIES: Entry[] = [
  {
    name: 'generateText',
    stream: false,
    run: (model) => settle(generateText({ model, ...common }).then((r) => JSON.parse(r.text) as unknown)),
  },
  {
    name: 'streamText',
    stream: true,
    async run(model) {
      const errors: unknown[] = []
      const result = streamText({ model, ...common, onError: ({ error }) => void errors.push(error) })
      let text = ''
      for await (const delta of result.textStream) text += delta
      return errors.length > 0 ? { error: errors[0] } : { value: JSON.parse(text) as unknown }
    },
  },
  {
    name: 'generateObject',
    stream: false,
    run: (model) => settle(generateObject({ model, schema, ...common }).then((r) => r.object)),
  },
  {
    name: 'streamObject',
    stream: true,
    async run(model) {
      const errors: unknown[] = []
      const result = streamObject({
        model,
        schema,
        ...common,
        onError: ({ error }) => void errors.push(error),
      })
      for await (const _ of result.partialObjectStream) void _
      return errors.length > 0 ? { error: errors[0] } : settle(result.object)
    },
  },
]

const CASES = PROVIDERS.flatMap((provider) => ENTRIES.map((entry) => ({ provider, entry })))
const label = (c: { provider: Provider; entry: Entry }) => `${c.entry.name} with ${c.provider.name}`

function guarded(fake: FakeProvider, provider: Provider, guard: Guard): LanguageModel {
  return wrapLanguageModel({ model: provider.model(fake) as never, middleware: guardMiddleware(guard) })
}

function watchedBreaker() {
  const seen: unknown[] = []
  const circuit = circuitGuard({
    threshold: 5,
    recoveryMs: 60_000,
    classify: (error) => {
      seen.push(error)
      return classifyError(error).health
    },
  })
  return { circuit, seen }
}

describe('AI SDK with @ai-sdk/openai and @ai-sdk/anthropic through guardMiddleware', () => {
  it.each(CASES.map((c) => [label(c), c] as const))(
    '%s: a 500 is retried once by the guard and seen by the breaker',
    async (_, c) => {
      const fake = await fakeProvider({ reply })
      fake.fail({ kind: 'server_error' })
      const { circuit, seen } = watchedBreaker()
      const retries: string[] = []
      const retry = retryGuard({ maxAttempts: 2, baseDelayMs: 0 })
      retry.onRetry((e) => retries.push(e.service))
      const out = await c.entry.run(guarded(fake, c.provider, compose(retry, circuit)))
      expect(out).toEqual({ value: { answer: 'hi' } })
      expect(retries).toEqual([c.provider.service])
      expect(seen).toEqual([expect.objectContaining({ statusCode: 500 })])
      expect(fake.requests.map((r) => [r.path, r.fault])).toEqual([
        [c.provider.path, 'server_error'],
        [c.provider.path, undefined],
      ])
    },
  )

  it.each(CASES.map((c) => [label(c), c] as const))(
    "%s: with maxRetries 0 the AI SDK's retries never run; the caller gets the provider error",
    async (_, c) => {
      const fake = await fakeProvider({ reply })
      fake.fail({ kind: 'server_error' }, { times: 5 })
      const out = await c.entry.run(guarded(fake, c.provider, retryGuard({ maxAttempts: 1 })))
      expect(classifyError(out.error)).toMatchObject({ status: 500, reason: 'server_error' })
      expect(fake.count()).toBe(1)
    },
  )

  it.each(CASES.map((c) => [label(c), c] as const))('%s: an open breaker sends no request', async (_, c) => {
    const fake = await fakeProvider({ reply })
    const { circuit } = watchedBreaker()
    await circuit.isolate(c.provider.service)
    const out = await c.entry.run(guarded(fake, c.provider, circuit))
    expect(isBrokenCircuitError(out.error)).toBe(true)
    expect(fake.count()).toBe(0)
  })

  it.each(CASES.filter((c) => c.entry.stream).map((c) => [label(c), c] as const))(
    '%s: an overload right after the stream opens (message_start) is retried inside the guard',
    async (_, c) => {
      const fake = await fakeProvider({ reply })
      fake.fail({ kind: 'stream_error', type: 'overloaded_error' })
      const { circuit, seen } = watchedBreaker()
      const out = await c.entry.run(
        guarded(fake, c.provider, compose(retryGuard({ maxAttempts: 2, baseDelayMs: 0 }), circuit)),
      )
      expect(out).toEqual({ value: { answer: 'hi' } })
      // @ai-sdk/openai reports an overload inside a chat stream as a 503: a failure either way.
      expect(seen.map((e) => classifyError(e))).toEqual([
        expect.objectContaining({ retryable: true, health: 'failure' }),
      ])
      expect(fake.requests.map((r) => r.fault)).toEqual(['stream_error', undefined])
    },
  )

  it('W3 a wrapped OpenAI client and an @ai-sdk/openai model of the same model share one breaker', async () => {
    const fake = await fakeProvider({ reply })
    const circuit = circuitGuard({ threshold: 2, recoveryMs: 60_000 })
    fake.fail({ kind: 'server_error' }, { times: 2 })
    const client = wrapOpenAI(openaiClient(fake), circuit)
    const model = wrapLanguageModel({
      model: createOpenAI({ apiKey: 'sk', baseURL: fake.openaiBaseURL }).chat('gpt-x'),
      middleware: guardMiddleware(circuit),
    })
    expect(
      (await caught(client.chat.completions.create({ model: 'gpt-x', messages: user('a') }))).status,
    ).toBe(500)
    await caught(generateText({ model, prompt: 'b', maxRetries: 0 }))
    // Two failures of one upstream, one from each integration: its breaker opened.
    expect(await circuit.state('openai:gpt-x')).toBe('open')
    expect(isBrokenCircuitError(await caught(generateText({ model, prompt: 'c', maxRetries: 0 })))).toBe(true)
    expect(fake.count()).toBe(2)
  })
})
