import { deferred, type Deferred } from '../helpers/deferred.js'
import type { AdmissionSignals, Message, SummarizeInput, Summarizer } from '../../src/pipeline/index.js'
import { conversation } from './conversation.js'

/** A trigger of 2 000 tokens: target 1 600, keep 500 raw, summary budget 200. */
export const POLICY = { contextWindow: 4_000, triggerTokens: 2_000 }

/** A conversation over the trigger: system prompt, then turns of (user, tool call + result, assistant). */
export function bigChat(turns = 12, prefix = ''): Message[] {
  const c = conversation().system('You are a coding agent.')
  for (let i = 0; i < turns; i++) {
    c.user(`${prefix}task ${i}: edit src/mod${i}.ts ${'please '.repeat(30)}`)
      .tool('read_file', { path: `src/mod${i}.ts` }, 'code '.repeat(80))
      .assistant(`${prefix}edited src/mod${i}.ts ${'because '.repeat(20)}`)
  }
  return c.messages
}

/** A summarizer whose calls wait until the test settles them. */
export function controlledSummarizer(name = 'llm') {
  const calls: { input: SummarizeInput; result: Deferred<string> }[] = []
  const waiters: { count: number; reached: Deferred<void> }[] = []
  const summarizer: Summarizer = {
    name,
    summarize(input) {
      const result = deferred<string>()
      calls.push({ input, result })
      for (const w of waiters.filter((w) => calls.length >= w.count)) w.reached.resolve()
      return result.promise
    },
  }
  /** Resolves once the summarizer has been called `count` times in all. */
  const called = (count: number): Promise<void> => {
    if (calls.length >= count) return Promise.resolve()
    const reached = deferred()
    waiters.push({ count, reached })
    return reached.promise
  }
  return { summarizer, calls, called }
}

export const CALM: AdmissionSignals = {
  memoryPressure: false,
  providerDegraded: false,
  queueSaturated: false,
}

/** Signals the test sets directly. */
export function manualSignals(initial: Partial<AdmissionSignals> = {}) {
  const state = { ...CALM, ...initial }
  return { state, source: { read: () => ({ ...state }) } }
}
