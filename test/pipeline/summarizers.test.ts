import { describe, expect, it } from 'vitest'
import type { CallContext, CallOptions } from '../../src/core/call-options.js'
import type { Guard } from '../../src/core/guard.js'
import {
  estimateTextTokens,
  extractiveSummarizer,
  llmSummarizer,
  planCompaction,
  type ChatPrompt,
} from '../../src/pipeline/index.js'
import { renderTranscript } from '../../src/pipeline/transcript.js'
import { conversation } from './conversation.js'

const signal = new AbortController().signal

function chat() {
  return conversation()
    .system('sys')
    .user('Add retries to the HTTP client in src/http/client.ts')
    .tool('read_file', { path: 'src/http/client.ts' }, 'export function get() {}')
    .assistant('I will wrap get() with exponential backoff; see docs/retry.md.')
    .tool('edit_file', { path: 'src/http/client.ts', patch: '...' }, 'ok')
    .user('Also update the README.md please')
    .assistant('Updated README.md with the retry section.').messages
}

describe('extractiveSummarizer', () => {
  it('P3 extractive: goal, files, tools and decisions; deterministic; merges the previous summary', async () => {
    const s = extractiveSummarizer()
    const plan = planCompaction(chat(), { triggerTokens: 1, keepRecentMessages: 0, maxSummaryTokens: 1 })!
    const all = [...plan.summarized, ...plan.kept]
    const fromMessages = await s.summarize({ transcript: plan.transcript, messages: all, signal })
    expect(fromMessages).toBe(await s.summarize({ transcript: plan.transcript, messages: all, signal }))
    const fromTranscript = await s.summarize({
      transcript: renderTranscript(all, 2_000),
      signal,
    })
    for (const text of [fromMessages, fromTranscript]) {
      expect(text).toContain('## Goal\nAdd retries to the HTTP client in src/http/client.ts')
      expect(text).toContain('- Latest request: Also update the README.md please')
      // Read, then edited: listed once, as modified.
      expect(text).toContain('## Files modified\n- src/http/client.ts')
      expect(text).not.toContain('## Files read')
      expect(text).toContain('- Tools used: read_file, edit_file')
      expect(text).toContain('- Updated README.md with the retry section.')
    }
    const next = conversation()
      .user('Now run the tests in test/http.test.ts')
      .tool('bash', { cmd: 'npm test' }, 'pass')
    const merged = await s.summarize({
      transcript: '',
      messages: next.messages,
      previousSummary: fromMessages,
      signal,
    })
    expect(merged).toContain('## Goal\nAdd retries to the HTTP client') // the original goal stays
    expect(merged).toContain('- Latest request: Now run the tests in test/http.test.ts')
    expect(merged).toContain('## Files modified\n- src/http/client.ts')
    expect(merged).toContain('- Tools used: read_file, edit_file, bash')
    const foreign = await s.summarize({
      transcript: '',
      messages: next.messages,
      previousSummary: '## Goal\nShip it',
      signal,
    })
    expect(foreign).toContain('## Critical context\n## Goal Ship it')
  })

  it('P3 extractive output is bounded', async () => {
    const c = conversation()
    for (let i = 0; i < 300; i++)
      c.user(`task ${i} ${'x'.repeat(500)} in pkg${i}/mod.ts`).assistant('y'.repeat(900))
    const s = extractiveSummarizer({ maxChars: 1_000 })
    const text = await s.summarize({ transcript: '', messages: c.messages, signal })
    expect(text.length).toBeLessThanOrEqual(1_000)
    expect(text).toContain('## Goal\ntask 0')
    const short = await s.summarize({ transcript: '', messages: c.messages, signal, maxTokens: 60 })
    expect(estimateTextTokens(short)).toBeLessThanOrEqual(60)
    expect(() => extractiveSummarizer({ maxChars: 5 })).toThrow(/"maxChars"/)
  })
})

describe('llmSummarizer', () => {
  it('P3 llm: checkpoint prompt first, update prompt with the previous summary after', async () => {
    const prompts: ChatPrompt[] = []
    const s = llmSummarizer({
      complete: async (prompt) => {
        prompts.push(prompt)
        return 'summary'
      },
    })
    await s.summarize({ transcript: 'T1', signal, maxTokens: 500 })
    await s.summarize({ transcript: 'T2', previousSummary: ' P1 ', signal })
    expect(prompts[0]!.maxTokens).toBe(500)
    expect(prompts[0]!.messages[0]!.content).toContain('<conversation>\nT1\n</conversation>')
    for (const section of [
      '## Goal',
      '## Constraints',
      '## Progress',
      '## Decisions',
      '## Files read',
      '## Files modified',
      '## Next steps',
    ]) {
      expect(prompts[0]!.messages[0]!.content).toContain(section)
    }
    expect(prompts[0]!.messages[0]!.content).not.toContain('previous-summary')
    expect(prompts[1]!.maxTokens).toBe(2_048)
    expect(prompts[1]!.messages[0]!.content).toContain('<previous-summary>\nP1\n</previous-summary>')
    expect(prompts[1]!.messages[0]!.content).toContain('<conversation>\nT2\n</conversation>')
  })

  it('P10 llm: its own guard runs as background; a context handed in is used without guarding again', async () => {
    const calls: CallOptions[] = []
    const guard: Guard = {
      name: 'g',
      execute: (fn, call) => {
        calls.push({ ...call })
        return Promise.resolve(
          fn({ signal, service: 's', cost: 1, priority: 'background', attempt: 1, hold() {}, touch() {} }),
        )
      },
    }
    const seen: CallContext[] = []
    const s = llmSummarizer({
      guard,
      service: 'anthropic:haiku',
      complete: async (_p, ctx) => {
        seen.push(ctx)
        return 'ok'
      },
    })
    await s.summarize({ transcript: 't', signal })
    expect(calls).toEqual([{ signal, priority: 'background', service: 'anthropic:haiku' }])
    const outer = {
      signal,
      service: 'x',
      cost: 1,
      priority: 'background',
      attempt: 2,
      hold() {},
      touch() {},
    } as CallContext
    await s.summarize({ transcript: 't', signal, ctx: outer })
    expect(calls).toHaveLength(1)
    expect(seen[1]).toBe(outer)
    expect(() => llmSummarizer({} as never)).toThrow(/"complete"/)
  })
})
