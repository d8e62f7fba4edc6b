import { describe, expect, it } from 'vitest'
import { estimateTextTokens, estimateTokens, estimateTotal, resolvePolicy } from '../../src/pipeline/index.js'

describe('compaction policy', () => {
  it('P2 policy defaults: 80 % of a 128k window, keep 25 % of the trigger, summary 10 % capped at 8 192', () => {
    const p = resolvePolicy(undefined)
    expect(p).toMatchObject({
      contextWindow: 128_000,
      triggerTokens: 102_400,
      targetTokens: 81_920,
      keepRecentTokens: 25_600,
      keepRecentMessages: undefined,
      maxSummaryTokens: 8_192,
      maxToolOutputChars: 2_000,
    })
    expect(resolvePolicy({ triggerTokens: 10_000 })).toMatchObject({
      keepRecentTokens: 2_500,
      maxSummaryTokens: 1_000,
    })
    expect(resolvePolicy({ contextWindow: 1000, triggerFraction: 0.5 }).triggerTokens).toBe(500)
    expect(resolvePolicy({ keepRecentMessages: 4 })).toMatchObject({
      keepRecentMessages: 4,
      keepRecentTokens: undefined,
    })
  })

  it('P2 invalid policies throw at construction naming the option and the value', () => {
    expect(() => resolvePolicy({ contextWindow: 0 })).toThrow(/"contextWindow".*got 0/)
    expect(() => resolvePolicy({ triggerFraction: 1.5 })).toThrow(RangeError)
    expect(() => resolvePolicy({ triggerTokens: 200_000 })).toThrow(/"triggerTokens".*<= 128000/)
    expect(() => resolvePolicy({ triggerTokens: 1000, triggerFraction: 0.5 })).toThrow(/"triggerFraction"/)
    expect(() => resolvePolicy({ keepRecentMessages: 3, keepRecentTokens: 10 })).toThrow(/"keepRecentTokens"/)
    expect(() => resolvePolicy({ keepRecentMessages: 1.5 })).toThrow(/"keepRecentMessages".*1.5/)
    expect(() =>
      resolvePolicy({ triggerTokens: 1000, keepRecentTokens: 700, maxSummaryTokens: 100 }),
    ).toThrow(/keepRecentTokens \+ maxSummaryTokens < 0.8/)
    expect(() => resolvePolicy({ estimateTokens: 'x' as never })).toThrow(TypeError)
    expect(() => resolvePolicy('x' as never)).toThrow(TypeError)
  })

  it('P13 a message costs its text, each tool call name and arguments, and 4 of framing', () => {
    const text = 'Read src/http/client.ts and add retries.'
    expect(estimateTokens({ id: '1', role: 'user', content: text })).toBe(estimateTextTokens(text) + 4)
    const args = '{"path":"src/http/client.ts"}'
    expect(
      estimateTokens({
        id: '2',
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'c', name: 'read_file', arguments: args }],
      }),
    ).toBe(4 + estimateTextTokens('read_file') + estimateTextTokens(args))
    expect(estimateTotal([{ id: '1', role: 'user', content: '' }], () => 7)).toBe(7)
  })
})
