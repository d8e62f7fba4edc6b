import { afterEach, describe, expect, it } from 'vitest'
import {
  CHECKPOINT_SECTIONS,
  checkpointPrompt,
  compactionWorker,
  estimateTextTokens,
  estimateTotal,
  extractiveSummarizer,
  llmSummarizer,
  updatePrompt,
  type ChatPrompt,
  type CompactionCompletedEvent,
  type CompactionWorker,
  type Message,
} from '../../src/pipeline/index.js'
import { conversation } from './conversation.js'
import { realisticText } from './realistic-text.js'
import { CALM, controlledSummarizer } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

const signal = new AbortController().signal
const promptTokens = (p: ChatPrompt) =>
  estimateTextTokens(p.system) + estimateTextTokens(p.messages.map((m) => m.content).join('\n')) + p.maxTokens

describe('summarize prompts are bounded (P14)', () => {
  it('P14 a transcript larger than the summarizer’s window is summarized in chunks, every request within it', async () => {
    const prompts: ChatPrompt[] = []
    const worker = compactionWorker({
      summarizer: llmSummarizer({
        complete: async (prompt) => {
          prompts.push(prompt)
          return `## Goal\nchunk ${prompts.length}`
        },
      }),
      fallback: false,
      policy: { contextWindow: 200_000, summarizerWindow: 16_000 },
      signals: { read: () => CALM },
    })
    workers.push(worker)
    const completed: CompactionCompletedEvent[] = []
    worker.onCompleted((e) => completed.push(e))
    const c = conversation().system('You are a helpful assistant.')
    for (let i = 0; estimateTotal(c.messages) < 170_000; i++) {
      c.user(realisticText('prose', 3_000, i)).assistant(realisticText('japanese', 2_000, i))
    }
    const s = worker.session('chunks')
    expect((await s.endTurn(c.messages))?.reason).toBe('allowed')
    await s.idle()
    expect(prompts.length).toBeGreaterThan(5)
    for (const p of prompts) expect(promptTokens(p)).toBeLessThanOrEqual(16_000)
    // Each chunk updates the summary so far.
    expect(prompts[0]!.messages[0]!.content).not.toContain('<previous-summary>')
    expect(prompts[1]!.messages[0]!.content).toContain(
      '<previous-summary>\n## Goal\nchunk 1\n</previous-summary>',
    )
    expect(completed).toEqual([
      expect.objectContaining({ summarizer: 'primary', summarizerCalls: prompts.length }),
    ])
    expect(s.beginTurn(c.messages)[1]!.content).toContain(`chunk ${prompts.length}`)
  })

  it('P14 a plan whose kept part cannot reach the target is never sent to a paid summarizer: the decision says cannot_reach_target', async () => {
    const control = controlledSummarizer()
    const worker = compactionWorker({
      summarizer: control.summarizer,
      policy: { contextWindow: 20_000 },
      quota: { cooldownMs: 0 },
      signals: { read: () => CALM },
    })
    workers.push(worker)
    // Pinned rules of 12 000 tokens: with a summary of up to 1 600, nothing can end below the 12 800 target.
    let rules = realisticText('prose', 60_000, 1)
    while (estimateTextTokens(rules) > 12_000) rules = rules.slice(0, -200)
    const messages: Message[] = [
      { id: 'rules', role: 'system', content: rules },
      ...conversation()
        .user(realisticText('prose', 30_000, 2))
        .assistant('ok')
        .user('go on').messages,
    ]
    const s = worker.session('unreachable')
    for (let i = 0; i < 3; i++) {
      expect(await s.endTurn(messages)).toMatchObject({
        schema: 'breakwater.compaction.admission.v1',
        allowed: false,
        reason: 'cannot_reach_target',
        attemptCount: 0,
      })
    }
    expect(control.calls).toHaveLength(0)
    expect(worker.evidence().rejected.cannot_reach_target).toBe(3)
  })
})

describe('summaries a model can continue from (P15)', () => {
  /** An agent session: reads, edits, a failing test run with a stack trace, decisions. */
  function agentWork(prefix: string, files: string[]) {
    const c = conversation().system('You are a coding agent.')
    c.user(`Goal: ${prefix} make the retry tests pass. Do not change the public API.`)
    for (const f of files) c.tool('read_file', { path: f }, realisticText('code', 4_000, f.length))
    c.tool('edit_file', { path: files[0], patch: '...' }, 'ok')
    c.tool(
      'bash',
      { command: 'npm test' },
      [
        ' ✓ test/ok.test.ts (3 tests)',
        'FAIL test/retry.test.ts > retries on 503',
        'TypeError: Cannot read properties of undefined (reading "status")',
        '    at classify (/app/node_modules/undici/lib/core/request.js:120:7)',
        '    at async run (/app/src/internal/runner.ts:88:3)',
      ].join('\n'),
    )
    c.assistant(`${prefix}: the status is read before the response exists; I will guard it next.`)
    return c.messages
  }

  it('P15 the extractive summary: goal and constraints, files read vs modified from tool calls (not stack traces), errors, decisions, next step; carried across compactions', async () => {
    const s = extractiveSummarizer()
    const first = await s.summarize({
      transcript: '',
      messages: agentWork('first', ['src/retry.ts', 'src/http.ts']),
      signal,
    })
    expect(first).toContain('## Goal\nfirst make the retry tests pass. Do not change the public API.')
    expect(first).not.toMatch(/Goal: (Goal|first)/)
    expect(first).toContain('## Constraints\n- Do not change the public API.')
    expect(first).toContain('## Files read\n- src/http.ts\n## Files modified\n- src/retry.ts')
    expect(first).toContain(
      '## Errors\n- FAIL test/retry.test.ts > retries on 503\n- TypeError: Cannot read properties',
    )
    expect(first).toContain(
      '## Next steps\n- first: the status is read before the response exists; I will guard it next.',
    )
    expect(first).not.toContain('undici')
    expect(first).not.toContain('runner.ts')
    const second = await s.summarize({
      transcript: '',
      messages: agentWork('second', ['src/backoff.ts']).slice(1),
      previousSummary: first,
      signal,
    })
    expect(second).toContain('## Goal\nfirst make the retry tests pass') // the first goal stays
    expect(second).toContain('- Latest request: second make the retry tests pass')
    expect(second).toContain(
      '## Files read\n- src/http.ts\n## Files modified\n- src/retry.ts\n- src/backoff.ts',
    )
    expect(second).toContain('## Next steps\n- second:')
    for (const section of ['Goal', 'Constraints', 'Files read', 'Files modified', 'Errors', 'Next steps']) {
      expect(second.split('\n').filter((l) => l === `## ${section}`)).toHaveLength(1)
    }
  })

  it('P15 the extractive summarizer yields to the event loop on a long transcript', async () => {
    const c = conversation()
    for (let i = 0; i < 400; i++)
      c.user(`step ${i}`).tool('bash', { command: 'npm test' }, realisticText('logs', 20_000, i))
    let ranMeanwhile = false
    setImmediate(() => (ranMeanwhile = true))
    const summary = await extractiveSummarizer().summarize({ transcript: '', messages: c.messages, signal })
    expect(ranMeanwhile).toBe(true)
    expect(summary).toContain('## Errors')
  })

  it('P15 the LLM prompts ask for the same sections; the update prompt takes the previous summary', () => {
    for (const s of [
      'Goal',
      'Constraints',
      'Decisions',
      'Files read',
      'Files modified',
      'Errors',
      'Next steps',
    ]) {
      expect(CHECKPOINT_SECTIONS).toContain(s)
    }
    const first = checkpointPrompt('T', 500).messages[0]!.content
    const update = updatePrompt('## Goal\nship', 'T2', 500).messages[0]!.content
    for (const text of [first, update]) {
      for (const s of CHECKPOINT_SECTIONS) expect(text).toContain(`## ${s}`)
      expect(text).toContain('Each section name appears once')
    }
    expect(update).toContain('<previous-summary>\n## Goal\nship\n</previous-summary>')
    expect(first).not.toContain('<previous-summary>')
  })
})
