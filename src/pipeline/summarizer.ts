import type { CallContext } from '../core/call-options.js'
import type { Message } from './message.js'

/** What a summarizer gets for one compaction. */
export interface SummarizeInput {
  /** Text snapshot of the messages to summarize (tool outputs already cut). */
  transcript: string
  /** The current summary, to be updated rather than replaced (cumulative summaries, P3). */
  previousSummary?: string
  /** Aborted on timeout or when the worker is disposed: stop and reject. */
  signal: AbortSignal
  /** Budget of the summary, in tokens (the policy's `maxSummaryTokens`). */
  maxTokens?: number
  /** Copies of the summarized messages, for summarizers that work from structure. */
  messages?: readonly Message[]
  /**
   * Set when the caller already runs this inside a guard (the compaction worker does): an LLM
   * summarizer calls through this context instead of guarding the call a second time.
   */
  ctx?: CallContext
}

/** Turns a transcript (and the previous summary) into an updated summary. */
export interface Summarizer {
  /** Used in events and logs. */
  readonly name?: string
  summarize(input: SummarizeInput): Promise<string>
}

/** True for an object with a `summarize` method. */
export function isSummarizer(value: unknown): value is Summarizer {
  return typeof (value as Summarizer | undefined)?.summarize === 'function'
}
