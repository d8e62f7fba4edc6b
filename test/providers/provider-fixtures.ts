import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach } from 'vitest'
import type { CallOptions } from '../../src/core/call-options.js'
import type { Guard } from '../../src/core/guard.js'
import {
  startFakeProvider,
  type FakeProvider,
  type FakeProviderOptions,
} from '../../src/testing/fake-provider/index.js'

let open: FakeProvider[] = []
afterEach(async () => {
  await Promise.all(open.map((f) => f.close()))
  open = []
})

/** A fake provider closed after the test. */
export async function fakeProvider(o?: FakeProviderOptions): Promise<FakeProvider> {
  const fake = await startFakeProvider(o)
  open.push(fake)
  return fake
}

/** A real OpenAI client with the SDK's default retries (2): the wrapper must turn them off. */
export const openaiClient = (fake: FakeProvider, apiKey = 'sk-a'): OpenAI =>
  new OpenAI({ apiKey, baseURL: fake.openaiBaseURL })

export const anthropicClient = (fake: FakeProvider, apiKey = 'ak-a'): Anthropic =>
  new Anthropic({ apiKey, baseURL: fake.url })

export const user = (content: string) => [{ role: 'user' as const, content }]

/** Settles to the rejection of `p`; fails if `p` fulfils. */
export async function caught(p: PromiseLike<unknown>): Promise<any> {
  try {
    await p
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** A guard that records the call options it is given and runs the call through `inner`. */
export function recording(inner: Guard): Guard & { calls: CallOptions[] } {
  const calls: CallOptions[] = []
  return {
    name: 'recording',
    calls,
    execute: (fn, call) => {
      calls.push({ ...call })
      return inner.execute(fn, call)
    },
  }
}

/** Reads a whole stream into text, with `pick` choosing each chunk's text. */
export async function drain<T>(
  stream: AsyncIterable<T>,
  pick: (chunk: T) => string | undefined,
): Promise<string> {
  let text = ''
  for await (const chunk of stream) text += pick(chunk) ?? ''
  return text
}

export const chatText = (c: OpenAI.Chat.Completions.ChatCompletionChunk): string | undefined =>
  c.choices[0]?.delta.content ?? undefined
export const anthropicText = (e: Anthropic.RawMessageStreamEvent): string | undefined =>
  e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : undefined
