import { describe, expect, it } from 'vitest'
import {
  applyCompaction,
  estimateTotal,
  isCompactionRefusedError,
  isSummaryMessage,
  planCompaction,
  type Message,
} from '../../src/pipeline/index.js'
import { conversation, toolCallsPaired } from './conversation.js'

const words = (n: number) => 'word '.repeat(n).trim()

/** 1 system prompt, then `turns` × (user, tool call + result, assistant). */
function longChat(turns: number) {
  const c = conversation().system('You are a coding agent.')
  for (let i = 0; i < turns; i++) {
    c.user(`turn ${i}: ${words(40)}`)
      .tool('read_file', { path: `src/f${i}.ts` }, words(60))
      .assistant(`done ${i}: ${words(30)}`)
  }
  return c.messages
}

describe('planCompaction', () => {
  it('P2 below the trigger there is no plan; forcing plans anyway', () => {
    const messages = longChat(5)
    const total = estimateTotal(messages)
    expect(planCompaction(messages, { triggerTokens: total + 1, keepRecentMessages: 2 })).toBeUndefined()
    expect(planCompaction(messages, { triggerTokens: total, keepRecentMessages: 2 })).toBeDefined()
    expect(
      planCompaction(messages, { triggerTokens: total + 1, keepRecentMessages: 2 }, { force: true }),
    ).toBeDefined()
  })

  it('P2 pins leading system messages, keeps the last keepRecentMessages raw, snapshots the transcript', () => {
    const messages = longChat(6)
    const plan = planCompaction(messages, {
      triggerTokens: 100,
      keepRecentMessages: 4,
      maxSummaryTokens: 10,
    })!
    expect(plan.kept.map((m) => m.id)).toEqual(messages.slice(-4).map((m) => m.id))
    expect(plan.summarized.map((m) => m.id)).toEqual(messages.slice(1, -4).map((m) => m.id))
    expect(plan.summarized.some((m) => m.role === 'system')).toBe(false)
    expect(plan.boundaryMessageId).toBe(messages.at(-5)!.id)
    expect(plan.tokensBefore).toBe(estimateTotal(messages))
    expect(plan.previousSummary).toBeUndefined()
    expect(plan.prefixHash).toMatch(/^[0-9a-f]{64}$/)
    expect(plan.transcript).toContain('turn 0:')
    expect(plan.transcript).toContain('[assistant tool call read_file')
    expect(plan.transcript).not.toContain('You are a coding agent')
    // Copies: later edits to the caller's messages do not reach the plan.
    messages[1]!.content = 'edited'
    expect(plan.summarized[0]!.content).toContain('turn 0:')
  })

  it('P2 keepRecentTokens keeps as many recent messages as fit', () => {
    const messages = longChat(6)
    const lastTwo = estimateTotal(messages.slice(-2))
    const plan = planCompaction(messages, {
      triggerTokens: 1000,
      keepRecentTokens: lastTwo + 1,
      maxSummaryTokens: 10,
    })!
    // Two fit: (tool result, assistant). The cut moved earlier to keep the result with its call, and
    // the current turn's user message is carried over the summary (P12).
    const lastTurn = messages.slice(-4).map((m) => m.id)
    expect(plan.kept.map((m) => m.id)).toEqual(lastTurn)
    expect(plan.carriedIds).toEqual([lastTurn[0]])
    expect(plan.summarized.map((m) => m.id)).not.toContain(lastTurn[0])
    const exact = planCompaction(messages, {
      triggerTokens: 1000,
      keepRecentTokens: estimateTotal(messages.slice(-3)),
      maxSummaryTokens: 10,
    })!
    expect(exact.kept).toHaveLength(4)
  })

  it('P2 never splits a tool call from its result', () => {
    const messages = longChat(6)
    for (let keep = 0; keep < messages.length; keep++) {
      const plan = planCompaction(messages, {
        triggerTokens: 100,
        keepRecentMessages: keep,
        maxSummaryTokens: 1,
      })
      if (plan === undefined) continue
      expect(toolCallsPaired(plan.summarized)).toBe(true)
      expect(toolCallsPaired(plan.kept)).toBe(true)
      expect(plan.kept.length).toBeGreaterThanOrEqual(keep)
    }
    // A call with two results split across the desired cut: the whole group is kept (with the
    // turn's user message, carried over the summary).
    const c = conversation().system('sys').user(words(200)).assistant(words(50)).user('now list them')
    c.messages.push(
      {
        id: 'a1',
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'x', name: 'ls', arguments: '{}' },
          { id: 'y', name: 'cat', arguments: '{}' },
        ],
      },
      { id: 't1', role: 'tool', content: words(50), toolCallId: 'x' },
      { id: 't2', role: 'tool', content: words(50), toolCallId: 'y' },
    )
    const plan = planCompaction(c.messages, {
      triggerTokens: 100,
      keepRecentMessages: 1,
      maxSummaryTokens: 1,
    })!
    expect(plan.kept.map((m) => m.id)).toEqual(['u4', 'a1', 't1', 't2'])
  })

  it('P2 returns undefined when nothing would shrink', () => {
    const onlySystem: Message[] = [{ id: 's', role: 'system', content: words(500) }]
    expect(planCompaction(onlySystem, { triggerTokens: 10, keepRecentMessages: 0 })).toBeUndefined()
    const messages = longChat(2)
    expect(
      planCompaction(messages, { triggerTokens: 10, keepRecentMessages: messages.length }),
    ).toBeUndefined()
    // The summarized part is no larger than the summary budget.
    const small = conversation().system('sys').user('hi').user(words(300)).messages
    expect(
      planCompaction(small, { triggerTokens: 10, keepRecentMessages: 1, maxSummaryTokens: 100 }),
    ).toBeUndefined()
  })

  it('P2 cuts very long tool outputs in the transcript', () => {
    const c = conversation()
      .system('sys')
      .user('go')
      .tool('cat', { path: 'big.log' }, 'x'.repeat(10_000))
      .user('next')
    const plan = planCompaction(c.messages, {
      triggerTokens: 100,
      keepRecentMessages: 1,
      maxSummaryTokens: 1,
    })!
    expect(plan.transcript).toContain('[tool result cat')
    expect(plan.transcript).toContain('x'.repeat(2_000) + '… [8000 more characters cut]')
    expect(plan.transcript).not.toContain('x'.repeat(2_001))
  })

  it('P3 a second plan carries the previous summary text, and applying leaves one cumulative summary', () => {
    const messages = longChat(6)
    const policy = { triggerTokens: 100, keepRecentMessages: 3, maxSummaryTokens: 10 }
    const first = applyCompaction(messages, planCompaction(messages, policy)!, '  first summary  ')
    first.push(
      ...longChat(4)
        .slice(1)
        .map((m) => ({ ...m, id: `b-${m.id}` })),
    )
    const second = planCompaction(first, policy)!
    expect(second.previousSummary).toBe('first summary')
    expect(second.summarized.some(isSummaryMessage)).toBe(false)
    const after = applyCompaction(first, second, 'second summary')
    expect(after.filter(isSummaryMessage)).toHaveLength(1)
    expect(after[1]!.content).toBe('<conversation-summary>\nsecond summary\n</conversation-summary>')
  })
})

describe('applyCompaction', () => {
  it('P4 the summary replaces the prefix right after the pinned messages; messages appended after the plan are kept', () => {
    const messages = longChat(4)
    messages.splice(1, 0, { id: 's2', role: 'system', content: 'Second pinned rule.' })
    const plan = planCompaction(messages, {
      triggerTokens: 100,
      keepRecentMessages: 3,
      maxSummaryTokens: 10,
    })!
    const appended: Message = { id: 'late', role: 'user', content: 'appended while summarizing' }
    const live = [...messages, appended]
    const after = applyCompaction(live, plan, 'the summary')
    expect(after.map((m) => m.id)).toEqual([
      messages[0]!.id,
      's2',
      `summary:${plan.boundaryMessageId}`,
      ...plan.kept.map((m) => m.id),
      'late',
    ])
    expect(after[2]).toEqual({
      id: `summary:${plan.boundaryMessageId}`,
      role: 'system',
      content: '<conversation-summary>\nthe summary\n</conversation-summary>',
    })
    expect(live).toHaveLength(messages.length + 1)
    expect(toolCallsPaired(after)).toBe(true)
  })

  it('P4 refuses when the summarized prefix changed, and for a malformed summary', () => {
    const messages = longChat(4)
    const plan = planCompaction(messages, {
      triggerTokens: 100,
      keepRecentMessages: 3,
      maxSummaryTokens: 10,
    })!
    const edited = messages.map((m, i) => (i === 2 ? { ...m, content: 'changed' } : m))
    const refused = (() => {
      try {
        applyCompaction(edited, plan, 'summary')
      } catch (e) {
        return e
      }
    })()
    expect(isCompactionRefusedError(refused)).toBe(true)
    expect(refused).toMatchObject({ code: 'BREAKWATER_COMPACTION_REFUSED', reason: 'prefix_changed' })
    expect(() => applyCompaction(messages.slice(0, 3), plan, 'summary')).toThrow(/prefix_changed/)
    expect(() => applyCompaction(messages, plan, '   ')).toThrow(/malformed_summary/)
    expect(() => applyCompaction(messages, plan, 42 as never)).toThrow(/malformed_summary/)
    // A compaction already applied changes the prefix: the same plan cannot apply twice.
    const once = applyCompaction(messages, plan, 'summary')
    expect(() => applyCompaction(once, plan, 'summary')).toThrow(/prefix_changed/)
  })
})
