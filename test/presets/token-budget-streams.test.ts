/**
 * L1 L4 as an agent fleet meets them: tokens, not requests, are the budget that binds. Eight
 * callers stream Chinese prompts through `messages.stream()` of the real Anthropic SDK, wrapped with
 * `llmGuard({ rateLimit: { tokens } })`, against the fake provider enforcing the same token budget
 * per window. Each call reserves its prompt plus `max_tokens` (1 024) but uses a small fraction of
 * it; only settling each stream to its final usage lets the budget carry the traffic it allows.
 * (Limiter and fake count the prompt alike, by the calibrated estimate; the answers are short, so
 * settlement returns most of each reservation's 1 024 output tokens.)
 * Real time: a 1 s window, 3 s of traffic.
 */
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { wrapAnthropic } from '../../src/providers/index.js'
import { fakeProvider } from '../providers/provider-fixtures.js'

const TOKENS = 8_000
const WINDOW_MS = 1_000
const DURATION_MS = 3_000
const CALLERS = 8
const MAX_TOKENS = 1_024

/** A realistic CJK question (about 600 characters), different per caller and turn. */
const prompt = (caller: number, turn: number): string =>
  `第${caller}位用户，第${turn}轮：` +
  '请阅读下面的日志并解释为什么服务在高峰期间返回错误。'.repeat(8) +
  '数据库连接池已满，请求排队超时，重试又加重了负载。'.repeat(8)

describe('L1 L4 a token budget shared by streaming callers', () => {
  it('L4 streams settled to their final usage keep the provider budget busy without 429s: no caller error, <= 2 % of requests answered 429, most of the token budget used', async () => {
    const fake = await fakeProvider({ rateLimits: { tokens: TOKENS, windowMs: WINDOW_MS } })
    const guard = llmGuard({ rateLimit: { tokens: TOKENS, windowMs: WINDOW_MS, maxWaitMs: 10_000 } })
    const client = wrapAnthropic(new Anthropic({ apiKey: 'sk-ant-tokens', baseURL: fake.url }), guard)
    const started = Date.now()
    const errors: unknown[] = []
    let ok = 0
    let used = 0
    let largestInput = 0
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let turn = 0; Date.now() - started < DURATION_MS; turn++) {
          try {
            const message = await client.messages
              .stream({
                model: 'claude-tokens',
                max_tokens: MAX_TOKENS,
                messages: [{ role: 'user', content: prompt(caller, turn) }],
              })
              .finalMessage()
            if (message.content.length > 0) ok++
            // What the provider counted against its budget, as its final usage event says.
            used += message.usage.input_tokens + message.usage.output_tokens
            largestInput = Math.max(largestInput, message.usage.input_tokens)
          } catch (error) {
            errors.push(error)
          }
        }
      }),
    )
    const elapsed = Date.now() - started
    expect(errors).toEqual([])
    const sent = fake.count()
    const limited = fake.count({ fault: 'rate_limit' })
    expect(limited / sent).toBeLessThanOrEqual(0.02)
    const served = fake.requests.filter((r) => r.fault === undefined)
    expect(ok).toBe(served.length)
    // The provider's budget over the run: the whole bucket at the start, then its refill.
    const budget = TOKENS + (TOKENS * elapsed) / WINDOW_MS
    // Reserving max_tokens without settling would allow at most budget / (prompt + 1 024) calls.
    const reservation = largestInput + MAX_TOKENS
    expect(ok).toBeGreaterThan((1.5 * budget) / reservation)
    expect(used).toBeGreaterThanOrEqual(0.6 * budget)
  }, 30_000)
})
