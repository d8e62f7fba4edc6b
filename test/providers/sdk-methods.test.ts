import type Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { circuitGuard } from '../../src/circuit/index.js'
import { compose } from '../../src/core/compose.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { breakwaterOptions, wrapAnthropic, wrapOpenAI } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import type { FakeProvider } from '../../src/testing/fake-provider/index.js'
import { anthropicClient, caught, fakeProvider, openaiClient, user } from './provider-fixtures.js'

/**
 * Every SDK method a user reaches first, helpers included. Each is called with request options
 * asking the SDK for 5 retries (`maxRetries: 5`) on a client built with the SDK's default of 2:
 * neither may run, only the guard's.
 */
interface Method {
  name: string
  sdk: 'openai' | 'anthropic'
  /** The path its request goes to (where the fake injects the fault). */
  path: string
  service: string
  call(client: any, options: object): Promise<unknown>
}

const sdkRetries = { maxRetries: 5 }
const chat = { model: 'gpt-m', messages: user('hi') }
const msg = { model: 'claude-m', max_tokens: 32, messages: user('hi') }
const drain = async (stream: AsyncIterable<unknown>) => {
  for await (const _ of stream) void _
}
const tool = {
  type: 'function' as const,
  function: {
    name: 'noop',
    description: 'does nothing',
    parameters: { type: 'object', properties: {} },
    parse: JSON.parse,
    function: () => 'ok',
  },
}

const METHODS: Method[] = [
  {
    name: 'openai chat.completions.create',
    sdk: 'openai',
    path: '/v1/chat/completions',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.chat.completions.create(chat, o),
  },
  {
    name: 'openai chat.completions.create({ stream: true })',
    sdk: 'openai',
    path: '/v1/chat/completions',
    service: 'openai:gpt-m',
    call: async (c: OpenAI, o) => drain(await c.chat.completions.create({ ...chat, stream: true }, o)),
  },
  {
    name: 'openai chat.completions.parse',
    sdk: 'openai',
    path: '/v1/chat/completions',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.chat.completions.parse({ ...chat, response_format: { type: 'text' } }, o),
  },
  {
    name: 'openai chat.completions.stream (helper)',
    sdk: 'openai',
    path: '/v1/chat/completions',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.chat.completions.stream(chat, o).finalChatCompletion(),
  },
  {
    name: 'openai chat.completions.runTools (helper)',
    sdk: 'openai',
    path: '/v1/chat/completions',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.chat.completions.runTools({ ...chat, tools: [tool] }, o).finalContent(),
  },
  {
    name: 'openai responses.create',
    sdk: 'openai',
    path: '/v1/responses',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.responses.create({ model: 'gpt-m', input: 'hi' }, o),
  },
  {
    name: 'openai responses.create({ stream: true })',
    sdk: 'openai',
    path: '/v1/responses',
    service: 'openai:gpt-m',
    call: async (c: OpenAI, o) =>
      drain(await c.responses.create({ model: 'gpt-m', input: 'hi', stream: true }, o)),
  },
  {
    name: 'openai responses.stream (helper)',
    sdk: 'openai',
    path: '/v1/responses',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.responses.stream({ model: 'gpt-m', input: 'hi' }, o).finalResponse(),
  },
  {
    name: 'openai responses.parse',
    sdk: 'openai',
    path: '/v1/responses',
    service: 'openai:gpt-m',
    call: (c: OpenAI, o) => c.responses.parse({ model: 'gpt-m', input: 'hi' }, o),
  },
  {
    name: 'openai embeddings.create',
    sdk: 'openai',
    path: '/v1/embeddings',
    service: 'openai:emb-m',
    call: (c: OpenAI, o) => c.embeddings.create({ model: 'emb-m', input: 'hi' }, o),
  },
  {
    name: 'openai batches.create',
    sdk: 'openai',
    path: '/v1/batches',
    service: 'openai',
    call: (c: OpenAI, o) =>
      c.batches.create({ input_file_id: 'f', endpoint: '/v1/chat/completions', completion_window: '24h' }, o),
  },
  {
    name: 'openai batches.list',
    sdk: 'openai',
    path: '/v1/batches',
    service: 'openai',
    call: (c: OpenAI, o) => c.batches.list({}, o),
  },
  {
    name: 'anthropic messages.create',
    sdk: 'anthropic',
    path: '/v1/messages',
    service: 'anthropic:claude-m',
    call: (c: Anthropic, o) => c.messages.create(msg, o),
  },
  {
    name: 'anthropic messages.create({ stream: true })',
    sdk: 'anthropic',
    path: '/v1/messages',
    service: 'anthropic:claude-m',
    call: async (c: Anthropic, o) => drain(await c.messages.create({ ...msg, stream: true }, o)),
  },
  {
    name: 'anthropic messages.stream (helper)',
    sdk: 'anthropic',
    path: '/v1/messages',
    service: 'anthropic:claude-m',
    call: (c: Anthropic, o) => c.messages.stream(msg, o).finalMessage(),
  },
  {
    name: 'anthropic messages.parse',
    sdk: 'anthropic',
    path: '/v1/messages',
    service: 'anthropic:claude-m',
    call: (c: Anthropic, o) => c.messages.parse(msg, o),
  },
  {
    name: 'anthropic messages.countTokens',
    sdk: 'anthropic',
    path: '/v1/messages/count_tokens',
    service: 'anthropic:claude-m',
    call: (c: Anthropic, o) => c.messages.countTokens({ model: 'claude-m', messages: user('hi') }, o),
  },
  {
    name: 'anthropic messages.batches.create',
    sdk: 'anthropic',
    path: '/v1/messages/batches',
    service: 'anthropic',
    call: (c: Anthropic, o) => c.messages.batches.create({ requests: [{ custom_id: 'a', params: msg }] }, o),
  },
  {
    name: 'anthropic messages.batches.list',
    sdk: 'anthropic',
    path: '/v1/messages/batches',
    service: 'anthropic',
    call: (c: Anthropic, o) => c.messages.batches.list({}, o),
  },
]

/** The client under test, wrapped around a real SDK client built with its default retries. */
function wrapped(m: Method, fake: FakeProvider, guard: Parameters<typeof wrapOpenAI>[1]): any {
  return m.sdk === 'openai'
    ? wrapOpenAI(openaiClient(fake), guard)
    : wrapAnthropic(anthropicClient(fake), guard)
}

/** A breaker that records every outcome it is told of. */
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

describe('W1 every method of a wrapped client goes through the guard', () => {
  it.each(METHODS)('W1 $name: a 500 is retried once by the guard and seen by the breaker', async (m) => {
    const fake = await fakeProvider()
    fake.fail({ kind: 'server_error' }, { path: m.path })
    const { circuit, seen } = watchedBreaker()
    const retries: string[] = []
    const retry = retryGuard({ maxAttempts: 2, baseDelayMs: 0 })
    retry.onRetry((e) => retries.push(`${e.service} ${e.reason}`))
    await m.call(wrapped(m, fake, compose(retry, circuit)), breakwaterOptions({}, sdkRetries))
    expect(retries).toEqual([`${m.service} server_error`])
    expect(seen).toEqual([expect.objectContaining({ status: 500 })])
    // One failed request, one answered: the SDK added none of its own.
    expect(fake.requests.map((r) => [r.path, r.fault])).toEqual([
      [m.path, 'server_error'],
      [m.path, undefined],
    ])
  })

  it.each(METHODS)(
    "W1 $name: the SDK's retries never run; the caller gets the SDK's own error",
    async (m) => {
      const fake = await fakeProvider()
      fake.fail({ kind: 'server_error' }, { path: m.path, times: 10 })
      const error = await caught(m.call(wrapped(m, fake, retryGuard({ maxAttempts: 1 })), sdkRetries))
      expect(error.constructor.name).toBe('InternalServerError')
      expect(error.status).toBe(500)
      expect(error.headers.get('content-type')).toBe('application/json')
      expect(fake.count()).toBe(1)
    },
  )

  it.each(METHODS)(
    'W1 $name: an open breaker sends no request and rejects with BrokenCircuitError',
    async (m) => {
      const fake = await fakeProvider()
      const { circuit } = watchedBreaker()
      await circuit.isolate(m.service)
      const error = await caught(m.call(wrapped(m, fake, circuit), sdkRetries))
      // The stream helpers (ChatCompletionStream, MessageStream, runners) wrap every error that is
      // not the SDK's in their own error class, with the original as its cause.
      const helper = m.name.endsWith('(helper)')
      expect(isBrokenCircuitError(helper ? error.cause : error)).toBe(true)
      expect(helper ? error.cause.service : error.service).toBe(m.service)
      expect(fake.count()).toBe(0)
    },
  )
})
