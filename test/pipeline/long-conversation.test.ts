import { describe, expect, it } from 'vitest'
import {
  compactionWorker,
  estimateTotal,
  extractiveSummarizer,
  isSummaryMessage,
  type Message,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { toolCallsPaired } from './conversation.js'
import { CALM } from './worker-fixtures.js'

describe('long conversation', () => {
  it('P5 200 agent turns compacted repeatedly stay under the budget, never loop, keep every tool call with its result', async () => {
    const clock = testClock()
    const policy = { contextWindow: 8_000, triggerTokens: 4_000 }
    const worker = compactionWorker({
      summarizer: extractiveSummarizer(),
      policy,
      clock,
      quota: { cooldownMs: 0 },
      signals: { read: () => CALM },
    })
    const outcomes: string[] = []
    worker.onCompleted(() => outcomes.push('completed'))
    worker.onFailed(() => outcomes.push('failed'))
    worker.onRejected(() => outcomes.push('rejected'))
    const s = worker.session('long')
    let messages: Message[] = [{ id: 'sys', role: 'system', content: 'You are a coding agent. Be careful.' }]
    let peak = 0
    for (let turn = 0; turn < 200; turn++) {
      messages = s.beginTurn(messages)
      const tokens = estimateTotal(messages)
      peak = Math.max(peak, tokens)
      expect(tokens).toBeLessThan(policy.contextWindow)
      expect(toolCallsPaired(messages)).toBe(true)
      expect(messages[0]!.id).toBe('sys') // the pinned system prompt survives every compaction
      expect(messages.filter(isSummaryMessage).length).toBeLessThanOrEqual(1)
      const output = turn % 17 === 0 ? 'L'.repeat(5_000) : `line ${turn}\n`.repeat(20 + (turn % 7) * 10)
      messages.push(
        { id: `u${turn}`, role: 'user', content: `step ${turn}: update src/pkg${turn % 9}/index.ts` },
        {
          id: `a${turn}`,
          role: 'assistant',
          content: turn % 3 === 0 ? `Reading first (step ${turn}).` : '',
          toolCalls: [
            {
              id: `c${turn}a`,
              name: 'read_file',
              arguments: JSON.stringify({ path: `src/pkg${turn % 9}/index.ts` }),
            },
            { id: `c${turn}b`, name: 'grep', arguments: JSON.stringify({ pattern: `fn${turn}` }) },
          ],
        },
        { id: `t${turn}a`, role: 'tool', content: output, toolCallId: `c${turn}a` },
        { id: `t${turn}b`, role: 'tool', content: `match ${turn}`, toolCallId: `c${turn}b` },
        { id: `r${turn}`, role: 'assistant', content: `Step ${turn} done: changed fn${turn}.` },
      )
      await s.endTurn(messages)
      await s.idle()
    }
    const evidence = worker.evidence()
    expect(evidence.runs.completed).toBeGreaterThan(10)
    expect(outcomes.every((o) => o === 'completed')).toBe(true)
    // Never loops: every time over the trigger gave one admitted run that completed; nothing was refused or retried.
    expect(evidence.admitted).toBe(evidence.runs.completed)
    expect(evidence.decisions).toBe(evidence.admitted)
    expect(peak).toBeLessThan(policy.contextWindow)
    const summary = messages.find(isSummaryMessage)!.content
    expect(summary).toContain('## Goal\nstep 0: update src/pkg0/index.ts')
    expect(summary).toContain('- Tools used: read_file, grep')
    expect(summary).toMatch(/## Files read\n(- src\/pkg\d\/index.ts\n)+/)
    await worker.dispose()
  })
})
