import { describe, expect, it } from 'vitest'
import { llmGuard } from '../../src/presets/index.js'
import { wrapAnthropic, wrapOpenAI } from '../../src/providers/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import {
  anthropicClient,
  anthropicText,
  chatText,
  drain,
  fakeProvider,
  openaiClient,
  user,
} from './provider-fixtures.js'

describe('provider wrappers under the llmGuard preset', () => {
  it('a retried stream holds one slot until it ends, then every timer and slot is released', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error' })
    const guard = llmGuard({ clock, retry: { baseDelayMs: 0 } })
    const client = wrapAnthropic(anthropicClient(fake), guard)
    const stream = await client.messages.create({
      model: 'claude-x',
      max_tokens: 64,
      messages: user('a b c'),
      stream: true,
    })
    expect(guard.backpressure!.depth).toBe(1)
    expect(await drain(stream, anthropicText)).toBe('echo: a b c')
    await clock.advance(0)
    expect(guard.backpressure!.depth).toBe(0)
    expect(await guard.circuit!.state('anthropic:claude-x')).toBe('closed')
    expect(fake.count()).toBe(2)
    // attempt, idle and total timers all ended with the call
    expect(clock.pending).toBe(0)
  })

  it('Responses streams and non-streaming calls run through the whole chain', async () => {
    const clock = testClock()
    const fake = await fakeProvider()
    fake.fail({ kind: 'stream_error' }, { path: '/v1/responses' })
    const client = wrapOpenAI(openaiClient(fake), llmGuard({ clock, retry: { baseDelayMs: 0 } }))
    const stream = await client.responses.create({ model: 'gpt-r', input: 'a b', stream: true })
    let text = ''
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta
    expect(text).toBe('echo: a b')
    const chat = await client.chat.completions.create({ model: 'gpt-c', messages: user('q'), stream: true })
    expect(await drain(chat, chatText)).toBe('echo: q')
    expect((await client.responses.create({ model: 'gpt-r', input: 'z' })).output_text).toBe('echo: z')
    expect(fake.counts.byPath).toEqual({ '/v1/responses': 3, '/v1/chat/completions': 1 })
    await clock.advance(0)
    expect(clock.pending).toBe(0)
  })
})
