import Anthropic from '@anthropic-ai/sdk'
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProvider, type FakeProvider } from '../../src/testing/fake-provider/index.js'

let fake: FakeProvider | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe('fake provider: token usage', () => {
  it('reports a Chinese prompt of N characters at about N input tokens, as o200k counts it, not N / 4', async () => {
    fake = await startFakeProvider()
    const prompt =
      '断路器在连续失败之后打开，等恢复时间过去再放行一个探测请求；探测成功就关闭，失败就继续保持打开。'.repeat(
        5,
      )
    const n = prompt.length
    const messages = [{ role: 'user' as const, content: prompt }]

    const res = await new OpenAI({
      apiKey: 'sk-a',
      baseURL: fake.openaiBaseURL,
      maxRetries: 0,
    }).chat.completions.create({ model: 'gpt-x', messages })
    const counted = await new Anthropic({
      apiKey: 'ak-a',
      baseURL: fake.url,
      maxRetries: 0,
    }).messages.countTokens({
      model: 'claude-x',
      messages,
    })
    const input = res.usage!.prompt_tokens
    // o200k spends about 0.7 tokens on a Chinese character; 4 characters a token would say n / 4.
    expect(input).toBeGreaterThanOrEqual(0.7 * n)
    expect(input).toBeLessThanOrEqual(1.5 * n)
    // The calibrated estimate: between 1.0 and 1.2 × the real count.
    const ratio = input / countTokens(prompt)
    expect(ratio, ratio.toFixed(2)).toBeGreaterThanOrEqual(1)
    expect(ratio, ratio.toFixed(2)).toBeLessThanOrEqual(1.2)
    expect(counted.input_tokens).toBe(input)
  })
})
