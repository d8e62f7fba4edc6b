/**
 * D6 / R7 with the real SDK clients against the fake provider: a 429 with a Retry-After, then
 * answers. The retry wakes from its own clock reading while the cooldown was set from another, so
 * it may wake a hair before the cooldown ends: it must wait out the rest, never fail.
 */
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { wrapAnthropic } from '../../src/providers/wrap-anthropic.js'
import { wrapOpenAI } from '../../src/providers/wrap-openai.js'
import { startFakeProvider, type FakeProvider } from '../../src/testing/fake-provider/index.js'

let fake: FakeProvider | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

const question = [{ role: 'user' as const, content: 'status?' }]

describe('D6 R7 a 429 with a Retry-After through the real SDKs', () => {
  it('D6 R7 thirty lone Anthropic calls that each meet one 429 (retry-after-ms 30) all succeed', async () => {
    fake = await startFakeProvider()
    const guard = llmGuard()
    const client = wrapAnthropic(new Anthropic({ apiKey: 'ak', baseURL: fake.url }), guard)
    for (let i = 0; i < 30; i++) {
      fake.fail({ kind: 'rate_limit', retryAfterMs: 30 })
      const answer = await client.messages.create({
        model: 'claude-sonnet-4',
        max_tokens: 16,
        messages: question,
      })
      expect(answer.content[0]).toMatchObject({ type: 'text' })
    }
    // One 429 and one answer per call: the SDK's own retries never ran.
    expect(fake.count()).toBe(60)
    expect(fake.count({ fault: 'rate_limit' })).toBe(30)
  })

  it('D6 R7 twenty concurrent OpenAI calls that each meet one 429 all succeed', async () => {
    fake = await startFakeProvider()
    const guard = llmGuard()
    const client = wrapOpenAI(new OpenAI({ apiKey: 'sk', baseURL: fake.openaiBaseURL }), guard)
    fake.fail({ kind: 'rate_limit', retryAfterMs: 30 }, { times: 20 })
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: `question ${i}` }],
        }),
      ),
    )
    expect(answers.every((a) => typeof a.choices[0]!.message.content === 'string')).toBe(true)
    expect(fake.count({ fault: 'rate_limit' })).toBe(20)
    expect(fake.count()).toBe(40)
  })
})
