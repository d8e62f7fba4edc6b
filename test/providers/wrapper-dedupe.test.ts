import { describe, expect, it } from 'vitest'
import { compose } from '../../src/core/compose.js'
import { dedupeGuard } from '../../src/dedupe/index.js'
import { breakwaterOptions, wrapAnthropic, wrapOpenAI, type WrapOptions } from '../../src/providers/index.js'
import { retryGuard } from '../../src/retry/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { anthropicClient, fakeProvider, openaiClient, user } from './provider-fixtures.js'

/**
 * Three identical concurrent requests, answered after 10 ms on the fake's clock once the
 * `expected` number of requests reached it.
 */
async function threeAtOnce(
  expected: number,
  options: WrapOptions | undefined,
  body: Record<string, unknown>,
  call?: object,
) {
  const clock = testClock()
  const fake = await fakeProvider({ clock })
  fake.fail({ kind: 'delay', ms: 10 }, { times: 3 })
  const client = wrapOpenAI(
    openaiClient(fake),
    compose(dedupeGuard({ ttlMs: 0 }), retryGuard({ maxAttempts: 1 })),
    options,
  )
  const calls = [1, 2, 3].map(() =>
    client.chat.completions.create({ model: 'm', messages: user('same'), ...body } as never, call),
  )
  await fake.waitForRequests(expected)
  await clock.advance(10)
  const answers = (await Promise.all(calls)) as unknown as { choices: { message: { content: string } }[] }[]
  return { answers, requests: fake.count() }
}

describe('W2 dedupe in the wrappers', () => {
  it('W2 by default sampled requests are never merged: three temperature 1 requests are three provider calls', async () => {
    const { answers, requests } = await threeAtOnce(3, undefined, { temperature: 1 })
    expect(requests).toBe(3)
    expect(new Set(answers).size).toBe(3)
  })

  it('W2 by default deterministic requests (temperature 0, one choice) are merged; each caller gets its own object', async () => {
    const { answers, requests } = await threeAtOnce(1, undefined, { temperature: 0, n: 1 })
    expect(requests).toBe(1)
    expect(new Set(answers).size).toBe(3)
    // Nobody's answer is frozen or shared: changing one changes no other.
    answers[0]!.choices[0]!.message.content = 'changed'
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(['changed', 'echo: same', 'echo: same'])
    expect(Object.isFrozen(answers[1])).toBe(false)
  })

  it("W2 two choices (n: 2) are sampled even at temperature 0; 'never' merges nothing", async () => {
    expect((await threeAtOnce(3, undefined, { temperature: 0, n: 2 })).requests).toBe(3)
    expect((await threeAtOnce(3, { dedupe: 'never' }, { temperature: 0 })).requests).toBe(3)
  })

  it("W2 sampled requests merge when the caller asks: dedupe 'always', or a per-call key", async () => {
    expect((await threeAtOnce(1, { dedupe: 'always' }, { temperature: 1 })).requests).toBe(1)
    const keyed = await threeAtOnce(1, undefined, { temperature: 1 }, breakwaterOptions({ key: 'k' }))
    expect(keyed.requests).toBe(1)
    const off = await threeAtOnce(3, { dedupe: 'always' }, {}, breakwaterOptions({ key: false }))
    expect(off.requests).toBe(3)
  })

  it('W2 a result nobody shares is the SDK object itself, unfrozen, even with a dedupe guard in the chain', async () => {
    const fake = await fakeProvider()
    // The Anthropic SDK takes no temperature: its messages merge only when asked ('always', a key).
    const client = wrapAnthropic(anthropicClient(fake), dedupeGuard({ ttlMs: 60_000 }), { dedupe: 'always' })
    const body = { model: 'c', max_tokens: 8, messages: user('x') }
    const msg = await client.messages.create(body)
    expect(Object.isFrozen(msg)).toBe(false)
    msg.content[0] = { type: 'text', text: 'mine', citations: null }
    // The cached answer is a copy of the provider's bytes: the next caller is untouched by the edit.
    const again = await client.messages.create(body)
    expect(again.content[0]).toMatchObject({ text: 'echo: x' })
    expect(fake.count()).toBe(1)
  })

  it('W2 a keyed helper that makes several requests never gets one answer for another', async () => {
    const fake = await fakeProvider()
    const client = wrapOpenAI(openaiClient(fake), dedupeGuard({ ttlMs: 60_000 }))
    const key = breakwaterOptions({ key: 'conversation-1' })
    const a = await client.chat.completions.create({ model: 'm', messages: user('first') }, key)
    const b = await client.chat.completions.create({ model: 'm', messages: user('second') }, key)
    expect([a.choices[0]!.message.content, b.choices[0]!.message.content]).toEqual([
      'echo: first',
      'echo: second',
    ])
  })
})
