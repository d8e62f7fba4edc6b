/**
 * L3 / L4 through the real SDKs against the fake provider: the wrappers' transport and the AI SDK
 * middleware report every answer on the call's answer channel, so a rate limit in llmGuard learns
 * the headers and settles each call's reservation to the usage — no user code involved.
 */
import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import { generateText, streamText, type LanguageModel, wrapLanguageModel } from 'ai'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { guardMiddleware, wrapAnthropic, wrapOpenAI } from '../../src/providers/index.js'
import type { FakeProvider } from '../../src/testing/fake-provider/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { flush } from '../helpers/deferred.js'
import { anthropicClient, fakeProvider, openaiClient, user } from './provider-fixtures.js'

;(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false

/** A budget that does not refill during a test (the test clock stays put): counts are exact. */
const BUDGET = { requests: 100, tokens: 100_000, windowMs: 3_600_000 }

function limited(extra: Parameters<typeof llmGuard>[0] = {}) {
  const clock = testClock()
  const guard = llmGuard({ clock, rateLimit: BUDGET, ...extra })
  return { guard, limit: guard.rateLimit! }
}

const tokensLeft = async (g: ReturnType<typeof limited>, service: string) =>
  (await g.limit.remaining(service)).tokens

describe('L4 wrapped calls are settled to the usage the provider reports', () => {
  it('L4 OpenAI chat, not streamed: the reservation (prompt + max_tokens) is settled to usage', async () => {
    const fake = await fakeProvider()
    const g = limited()
    const client = wrapOpenAI(openaiClient(fake), g.guard)
    const reply = await client.chat.completions.create({
      model: 'gpt-l4',
      messages: user('how many tokens is this?'),
      max_tokens: 500,
    })
    const used = reply.usage!.prompt_tokens + reply.usage!.completion_tokens
    expect(used).toBeLessThan(100)
    expect(await tokensLeft(g, 'openai:gpt-l4')).toBe(100_000 - used)
  })

  it('L4 OpenAI chat, streamed with include_usage: reserved while it runs, settled by the final usage chunk', async () => {
    const fake = await fakeProvider()
    const g = limited()
    const client = wrapOpenAI(openaiClient(fake), g.guard)
    const stream = await client.chat.completions.create({
      model: 'gpt-l4s',
      messages: user('stream me a few words'),
      max_tokens: 500,
      stream: true,
      stream_options: { include_usage: true },
    })
    // The first content is in: the call runs on its reservation (at least max_tokens).
    expect(await tokensLeft(g, 'openai:gpt-l4s')).toBeLessThanOrEqual(100_000 - 500)
    let used: number | undefined
    for await (const chunk of stream) if (chunk.usage) used = chunk.usage.total_tokens
    await flush()
    expect(used).toBeGreaterThan(0)
    expect(await tokensLeft(g, 'openai:gpt-l4s')).toBe(100_000 - used!)
  })

  it('L4 Anthropic messages, not streamed and streamed (message_start input + message_delta output)', async () => {
    const fake = await fakeProvider()
    const g = limited()
    const client = wrapAnthropic(anthropicClient(fake), g.guard)
    const body = { model: 'claude-l4', max_tokens: 400, messages: user('count these words please') }
    const reply = await client.messages.create(body)
    const first = reply.usage.input_tokens + reply.usage.output_tokens
    expect(await tokensLeft(g, 'anthropic:claude-l4')).toBe(100_000 - first)

    const stream = await client.messages.create({ ...body, stream: true })
    let input = 0
    let output = 0
    for await (const event of stream) {
      if (event.type === 'message_start') input = event.message.usage.input_tokens
      if (event.type === 'message_delta') output = event.usage.output_tokens
    }
    await flush()
    expect(input).toBeGreaterThan(0)
    expect(output).toBeGreaterThan(0)
    expect(await tokensLeft(g, 'anthropic:claude-l4')).toBe(100_000 - first - input - output)
  })

  it('L4 a retried call takes once per attempt; only the answered attempt is settled to its usage', async () => {
    const fake = await fakeProvider()
    const g = limited({ retry: { baseDelayMs: 0 } })
    const client = wrapOpenAI(openaiClient(fake), g.guard)
    fake.fail({ kind: 'server_error' })
    const reply = await client.chat.completions.create({
      model: 'gpt-r',
      messages: user('again'),
      max_tokens: 300,
    })
    expect(fake.count()).toBe(2)
    const left = await g.limit.remaining('openai:gpt-r')
    expect(left.requests).toBe(98)
    // The 500 reported no usage: its reservation stays taken (what the provider may have counted).
    const reserved = 100_000 - left.tokens! - reply.usage!.total_tokens
    expect(reserved).toBeGreaterThanOrEqual(300)
    expect(reserved).toBeLessThan(400)
  })

  it('L4 callers joined by dedupe share one take; a fallback model is a service with a budget of its own', async () => {
    const fake = await fakeProvider()
    const g = limited({ rateLimit: { ...BUDGET, requests: 3, maxWaitMs: 0 } })
    const client = wrapOpenAI(openaiClient(fake), g.guard, { fallbackModels: ['gpt-b'] })
    const same = { model: 'gpt-a', messages: user('same'), temperature: 0 }
    const [a, b] = await Promise.all([
      client.chat.completions.create(same),
      client.chat.completions.create(same),
    ])
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content)
    expect(fake.count()).toBe(1)
    expect((await g.limit.remaining('openai:gpt-a')).requests).toBe(2)
    await client.chat.completions.create({ model: 'gpt-a', messages: user('1') })
    await client.chat.completions.create({ model: 'gpt-a', messages: user('2') })
    // gpt-a's budget is spent and the call may not wait: it goes to gpt-b, on gpt-b's budget.
    const fell = await client.chat.completions.create({ model: 'gpt-a', messages: user('3') })
    expect(fell.model).toBe('gpt-b')
    expect(fake.count({ model: 'gpt-a' })).toBe(3)
    expect((await g.limit.remaining('openai:gpt-a')).requests).toBe(0)
    const b2 = await g.limit.remaining('openai:gpt-b')
    expect(b2.requests).toBe(2)
    expect(b2.tokens).toBe(100_000 - fell.usage!.total_tokens)
  })
})

describe('L3 a wrapped call learns the rate-limit headers of every answer', () => {
  it('L3 the headers of a successful OpenAI answer tighten the budget at once (configured 100, provider says 4 left)', async () => {
    const fake = await fakeProvider()
    const g = limited()
    // The provider's headers, as a proxy in front of the fake would add them.
    const withHeaders: typeof fetch = async (input, init) => {
      const r = await fetch(input, init)
      const headers = new Headers(r.headers)
      headers.set('x-ratelimit-limit-requests', '100')
      headers.set('x-ratelimit-remaining-requests', '4')
      headers.set('x-ratelimit-limit-tokens', '100000')
      headers.set('x-ratelimit-remaining-tokens', '5000')
      return new Response(r.body, { status: r.status, headers })
    }
    const client = wrapOpenAI(
      new OpenAI({ apiKey: 'sk', baseURL: fake.openaiBaseURL, fetch: withHeaders }),
      g.guard,
    )
    await client.chat.completions.create({ model: 'gpt-h', messages: user('hi'), max_tokens: 50 })
    const left = await g.limit.remaining('openai:gpt-h')
    expect(left.requests).toBe(4)
    // 5 000 as the provider said, plus what the call's usage gave back of its reservation (~60).
    expect(left.tokens).toBeGreaterThanOrEqual(5_000)
    expect(left.tokens).toBeLessThan(5_100)
  })
})

describe('L4 the AI SDK middleware settles model calls to their usage', () => {
  const models: { name: string; service: string; model: (f: FakeProvider) => LanguageModel }[] = [
    {
      name: '@ai-sdk/openai (openai.chat)',
      service: 'openai:gpt-ai',
      model: (f) => createOpenAI({ apiKey: 'sk', baseURL: f.openaiBaseURL }).chat('gpt-ai'),
    },
    {
      name: '@ai-sdk/anthropic (anthropic.messages)',
      service: 'anthropic:claude-ai',
      model: (f) => createAnthropic({ apiKey: 'ak', baseURL: `${f.url}/v1` })('claude-ai'),
    },
  ]
  for (const m of models) {
    it(`L4 ${m.name}: generateText and streamText are each settled to the usage they report`, async () => {
      const fake = await fakeProvider()
      const g = limited()
      const model = wrapLanguageModel({ model: m.model(fake) as never, middleware: guardMiddleware(g.guard) })
      const generated = await generateText({ model, prompt: 'tell me', maxOutputTokens: 300, maxRetries: 0 })
      const first = generated.usage.inputTokens! + generated.usage.outputTokens!
      expect(first).toBeGreaterThan(0)
      expect(await tokensLeft(g, m.service)).toBe(100_000 - first)

      const streamed = streamText({ model, prompt: 'and now streamed', maxOutputTokens: 300, maxRetries: 0 })
      await streamed.consumeStream()
      const usage = await streamed.usage
      await flush()
      const second = usage.inputTokens! + usage.outputTokens!
      expect(second).toBeGreaterThan(0)
      expect(await tokensLeft(g, m.service)).toBe(100_000 - first - second)
    })
  }
})
