/**
 * A wrapped provider call's `breakwater.call` span gets its GenAI attributes by itself: the
 * transport reports every answer on the call's answer channel and the traced call listens there.
 */
import { createOpenAI } from '@ai-sdk/openai'
import { generateText, wrapLanguageModel } from 'ai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { reportAnswer } from '../../src/core/answer-channel.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { guardMiddleware, wrapAnthropic, wrapOpenAI } from '../../src/providers/index.js'
import { flush } from '../helpers/deferred.js'
import { anthropicClient, fakeProvider, openaiClient, user } from '../providers/provider-fixtures.js'
import { type Otel, registerOtel } from './otel-fixture.js'

;(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false

let otel: Otel
beforeEach(() => {
  otel = registerOtel()
})
afterEach(async () => {
  await otel.stop()
})

describe('GenAI attributes of wrapped provider calls (in-memory exporter)', () => {
  it('O11 a wrapped OpenAI call: its span carries gen_ai.* with the usage the provider reported', async () => {
    const fake = await fakeProvider()
    const client = wrapOpenAI(openaiClient(fake), llmGuard({ timeout: false }))
    const reply = await client.chat.completions.create({ model: 'gpt-span', messages: user('hello span') })
    expect(otel.callSpan().attributes).toMatchObject({
      'breakwater.service': 'openai:gpt-span',
      'breakwater.outcome': 'success',
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-span',
      'gen_ai.response.model': reply.model,
      'gen_ai.usage.input_tokens': reply.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': reply.usage!.completion_tokens,
    })
  })

  it('O11 a wrapped Anthropic stream: its span gets the final usage before it ends; a retried call adds up its attempts', async () => {
    const fake = await fakeProvider()
    const client = wrapAnthropic(
      anthropicClient(fake),
      llmGuard({ timeout: false, retry: { baseDelayMs: 0 } }),
    )
    // The first attempt fails after message_start (its input tokens were reported), the second streams.
    fake.fail({ kind: 'stream_error' })
    const stream = await client.messages.create({
      model: 'claude-span',
      max_tokens: 64,
      messages: user('stream this'),
      stream: true,
    })
    let input = 0
    let output = 0
    for await (const event of stream) {
      if (event.type === 'message_start') input = event.message.usage.input_tokens
      if (event.type === 'message_delta') output = event.usage.output_tokens
    }
    await flush()
    // Both attempts sent the same prompt; the failed one's message_start reported 1 output token.
    expect(otel.callSpan().attributes).toMatchObject({
      'breakwater.attempts': 2,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-span',
      'gen_ai.usage.input_tokens': 2 * input,
      'gen_ai.usage.output_tokens': output + 1,
    })
  })

  it('O11 an AI SDK model call through guardMiddleware: its span carries the result usage', async () => {
    const fake = await fakeProvider()
    const model = wrapLanguageModel({
      model: createOpenAI({ apiKey: 'sk', baseURL: fake.openaiBaseURL }).chat('gpt-ai-span') as never,
      middleware: guardMiddleware(llmGuard({ timeout: false })),
    })
    const result = await generateText({ model, prompt: 'hi there', maxRetries: 0 })
    expect(otel.callSpan().attributes).toMatchObject({
      'breakwater.service': 'openai:gpt-ai-span',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-ai-span',
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
    })
  })

  it('O11 a caller reporting its own answers with reportAnswer gets the same attributes', async () => {
    await llmGuard({ timeout: false }).execute((ctx) =>
      reportAnswer(ctx, { provider: 'acme', operation: 'chat', model: 'm-1', usage: { inputTokens: 5 } }),
    )
    expect(otel.callSpan().attributes).toMatchObject({
      'gen_ai.provider.name': 'acme',
      'gen_ai.request.model': 'm-1',
      'gen_ai.usage.input_tokens': 5,
    })
  })

  it('O12 llmGuard({ tracing: false }) makes no span for its calls; wrapped calls work as before', async () => {
    const fake = await fakeProvider()
    const client = wrapOpenAI(openaiClient(fake), llmGuard({ timeout: false, tracing: false }))
    const reply = await client.chat.completions.create({ model: 'gpt-quiet', messages: user('shh') })
    expect(reply.choices[0]!.message.content).toBe('echo: shh')
    expect(otel.spans('breakwater.call')).toEqual([])
    // Tracing stays on by default, and the option is checked.
    await llmGuard({ timeout: false }).execute(() => 'traced')
    expect(otel.spans('breakwater.call')).toHaveLength(1)
    expect(() => llmGuard({ tracing: 'off' as never })).toThrow(TypeError)
    expect(() => llmGuard({ tracing: 'off' as never })).toThrow(/"tracing"/)
  })
})
