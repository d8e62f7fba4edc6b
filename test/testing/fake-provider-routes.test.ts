import { createAnthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai'
import Anthropic from '@anthropic-ai/sdk'
import { APICallError, generateText, streamText } from 'ai'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { estimateTextTokens } from '../../src/pipeline/tokens.js'
import { startFakeProvider, type FakeProvider } from '../../src/testing/fake-provider/index.js'

let fake: FakeProvider | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function start(): Promise<FakeProvider> {
  fake = await startFakeProvider()
  return fake
}
const openai = (f: FakeProvider): OpenAI =>
  new OpenAI({ apiKey: 'sk-a', baseURL: f.openaiBaseURL, maxRetries: 0 })
const anthropic = (f: FakeProvider): Anthropic =>
  new Anthropic({ apiKey: 'ak-a', baseURL: f.url, maxRetries: 0 })
const user = (content: string) => [{ role: 'user' as const, content }]

/** Collects what `streamText` reports, the error included, without throwing. */
async function streamed(result: ReturnType<typeof streamText>, errors: unknown[]): Promise<string> {
  let text = ''
  for await (const delta of result.textStream) text += delta
  return errors.length > 0 ? `error: ${String(errors[0])}` : text
}

describe('fake provider: embeddings, countTokens and batches', () => {
  it('answers OpenAI embeddings in float and base64 encodings (the SDK default), with usage', async () => {
    const f = await start()
    const client = openai(f)
    const floats = await client.embeddings.create({
      model: 'emb',
      input: ['one', 'two two'],
      encoding_format: 'float',
    })
    expect(floats.data.map((d) => d.index)).toEqual([0, 1])
    expect(floats.data[0]!.embedding).toHaveLength(8)
    // Each input is counted on its own, with the calibrated estimate.
    const prompt = estimateTextTokens('one') + estimateTextTokens('two two')
    expect(floats.usage).toEqual({ prompt_tokens: prompt, total_tokens: prompt })
    // The SDK asks for base64 by default and decodes it: the same vector comes back.
    const decoded = await client.embeddings.create({ model: 'emb', input: 'one' })
    expect(decoded.data[0]!.embedding).toEqual(floats.data[0]!.embedding.map((x) => Math.fround(x)))
    expect(f.count({ path: '/v1/embeddings' })).toBe(2)
  })

  it('answers Anthropic countTokens with the input tokens of the request', async () => {
    const f = await start()
    const counted = await anthropic(f).messages.countTokens({
      model: 'claude-x',
      messages: user('count these words please'),
    })
    expect(counted).toEqual({ input_tokens: estimateTextTokens('count these words please') })
    expect(f.counts.byPath).toEqual({ '/v1/messages/count_tokens': 1 })
  })

  it('keeps OpenAI batches: create, retrieve, list, cancel; an unknown id is a NotFoundError', async () => {
    const f = await start()
    const client = openai(f)
    const batch = await client.batches.create({
      input_file_id: 'file-1',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', input_file_id: 'file-1' })
    expect((await client.batches.retrieve(batch.id)).id).toBe(batch.id)
    const listed: string[] = []
    for await (const b of client.batches.list()) listed.push(b.id)
    expect(listed).toEqual([batch.id])
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelling')
    const missing = await client.batches.retrieve('batch_nope').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError)
    expect(f.count({ method: 'GET' })).toBe(3)
  })

  it('keeps Anthropic message batches: create, retrieve, list, cancel', async () => {
    const f = await start()
    const client = anthropic(f)
    const batch = await client.messages.batches.create({
      requests: [{ custom_id: 'a', params: { model: 'claude-x', max_tokens: 8, messages: user('hi') } }],
    })
    expect(batch).toMatchObject({ type: 'message_batch', processing_status: 'in_progress' })
    expect(batch.request_counts.processing).toBe(1)
    expect((await client.messages.batches.retrieve(batch.id)).id).toBe(batch.id)
    const listed: string[] = []
    for await (const b of client.messages.batches.list()) listed.push(b.id)
    expect(listed).toEqual([batch.id])
    expect((await client.messages.batches.cancel(batch.id)).processing_status).toBe('canceling')
    const missing = await client.messages.batches.retrieve('msgbatch_nope').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError)
  })

  it('faults apply to every route', async () => {
    const f = await start()
    f.fail({ kind: 'server_error' }, { path: '/v1/embeddings' })
    f.fail({ kind: 'overloaded' }, { path: '/v1/messages/count_tokens' })
    const e1 = await openai(f)
      .embeddings.create({ model: 'emb', input: 'x' })
      .catch((e: unknown) => e)
    expect(e1).toBeInstanceOf(OpenAI.InternalServerError)
    const e2 = await anthropic(f)
      .messages.countTokens({ model: 'c', messages: user('x') })
      .catch((e: unknown) => e)
    expect(classifyError(e2)).toMatchObject({ status: 529, reason: 'overloaded' })
  })
})

describe('fake provider: the AI SDK providers parse its answers and its errors', () => {
  const providers = (f: FakeProvider) => ({
    'openai.responses': createOpenAI({ apiKey: 'sk', baseURL: f.openaiBaseURL })('gpt-r'),
    'openai.chat': createOpenAI({ apiKey: 'sk', baseURL: f.openaiBaseURL }).chat('gpt-c'),
    'anthropic.messages': createAnthropic({ apiKey: 'ak', baseURL: `${f.url}/v1` })('claude-x'),
  })

  it('answers generateText and streamText for @ai-sdk/openai (responses, chat) and @ai-sdk/anthropic', async () => {
    const f = await start()
    for (const [name, model] of Object.entries(providers(f))) {
      const { text, usage } = await generateText({ model, prompt: 'hi', maxRetries: 0, maxOutputTokens: 64 })
      expect([name, text]).toEqual([name, 'echo: hi'])
      expect([name, usage.outputTokens]).toEqual([name, estimateTextTokens('echo: hi')])
      const result = streamText({ model, prompt: 'a b c', maxRetries: 0, maxOutputTokens: 64 })
      expect([name, await result.text]).toEqual([name, 'echo: a b c'])
      expect([name, (await result.usage).outputTokens]).toEqual([name, estimateTextTokens('echo: a b c')])
    }
  })

  it('a stream error event reaches the AI SDK as the provider error, not a validation error', async () => {
    const f = await start()
    for (const [name, model] of Object.entries(providers(f))) {
      f.fail({ kind: 'stream_error', afterChunks: 1 })
      const errors: unknown[] = []
      const result = streamText({
        model,
        prompt: 'a b c',
        maxRetries: 0,
        maxOutputTokens: 64,
        onError: ({ error }) => void errors.push(error),
      })
      await streamed(result, errors)
      expect([name, errors.length]).toEqual([name, 1])
      const error = errors[0] as { name?: string; constructor: { name: string } }
      expect([name, error.name ?? error.constructor.name]).not.toEqual([name, 'AI_TypeValidationError'])
      const expected = name === 'anthropic.messages' ? 'overloaded' : 'server_error'
      expect([name, classifyError(error).reason]).toEqual([name, expected])
    }
  })

  it('an HTTP error reaches the AI SDK as an APICallError with status and headers', async () => {
    const f = await start()
    for (const [name, model] of Object.entries(providers(f))) {
      f.fail({ kind: 'rate_limit', retryAfterMs: 1200 })
      const error = await generateText({ model, prompt: 'x', maxRetries: 0, maxOutputTokens: 64 }).catch(
        (e: unknown) => e,
      )
      expect([name, APICallError.isInstance(error)]).toEqual([name, true])
      expect([name, classifyError(error)]).toEqual([
        name,
        expect.objectContaining({ status: 429, reason: 'rate_limited', retryAfterMs: 1200 }),
      ])
    }
  })
})
