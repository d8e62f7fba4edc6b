import { afterEach, describe, expect, it } from 'vitest'
import {
  compactionWorker,
  estimateTextTokens,
  llmSummarizer,
  type CompactionWorker,
  type CompactionCompletedEvent,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { runAgentSession, slowSummarizer, type SessionKind } from './agent-session.js'
import { CALM } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

const WINDOW = 200_000
/** A small, cheap summarizer model: big transcripts must be chunked to fit it (P14). */
const SUMMARIZER_WINDOW = 32_000

/** The setup, shortened: a 200k window, a summarizer taking 400 ms a call, default quota. */
async function scenario(kind: SessionKind, turns: number) {
  const clock = testClock()
  const slow = slowSummarizer({
    sleep: (ms, signal) => clock.sleep(ms, signal),
    latencyMs: 400,
    count: estimateTextTokens,
    llm: llmSummarizer,
  })
  const worker = compactionWorker({
    summarizer: slow.summarizer,
    policy: { contextWindow: WINDOW, summarizerWindow: SUMMARIZER_WINDOW },
    clock,
    signals: { read: () => CALM },
  })
  workers.push(worker)
  const completed: CompactionCompletedEvent[] = []
  worker.onCompleted((e) => completed.push(e))
  const settle = async <T>(work: Promise<T>): Promise<T> => {
    let done = false
    const out = work.finally(() => (done = true))
    while (!done) await clock.advance(50)
    return out
  }
  const run = await runAgentSession({
    session: worker.session(kind),
    kind,
    turns,
    seed: kind === 'cjk' ? 7 : 3,
    contextWindow: WINDOW,
    outputTokens: 8_192,
    settle,
    modelCall: () => clock.advance(300),
  })
  return { run, completed, prompts: slow.prompts, worker }
}

describe('agent sessions (short form of the compaction benchmark)', () => {
  it('P11 the tool-heavy session: every request within the window, the latest user message present, no orphaned tool result, no summarize request over its window', async () => {
    const { run, completed, prompts, worker } = await scenario('tool-heavy', 70)
    expect(run.violations).toEqual([])
    expect(run.peakTokens).toBeLessThanOrEqual(WINDOW)
    // It did compact — in the background, and in the foreground while the cooldown held the background back.
    expect(completed.filter((e) => !e.foreground).length).toBeGreaterThanOrEqual(1)
    expect(completed.some((e) => e.foreground)).toBe(true)
    expect(prompts.length).toBeGreaterThan(0)
    expect(Math.max(...prompts)).toBeLessThanOrEqual(SUMMARIZER_WINDOW)
    expect(completed.some((e) => e.summarizerCalls > 1)).toBe(true) // chunked (P14)
    expect(worker.evidence().runs.failed).toBe(0)
  })

  it('P11 the CJK session: every request within the window, the latest user message present, no orphaned tool result, no summarize request over its window', async () => {
    const { run, completed, prompts } = await scenario('cjk', 70)
    expect(run.violations).toEqual([])
    expect(run.peakTokens).toBeLessThanOrEqual(WINDOW)
    expect(completed.length).toBeGreaterThanOrEqual(2)
    expect(Math.max(...prompts)).toBeLessThanOrEqual(SUMMARIZER_WINDOW)
  })
})
