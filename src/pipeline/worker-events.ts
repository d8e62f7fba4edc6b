import type { AdmissionDecision } from './admission.js'
import type { CompactionRefusal } from './compaction-errors.js'

/** A compaction run began (after admission, or on a manual request). */
export interface CompactionStartedEvent {
  readonly sessionId: string
  readonly manual: boolean
  /** Run by `prepareRequest` because the next request would not fit the window (P11), not in the background. */
  readonly foreground: boolean
  readonly tokensBefore: number
  /** This session's attempt number (1-based). */
  readonly attempt: number
}

/** A run produced a summary that passed every check; it is applied at the next turn boundary. */
export interface CompactionCompletedEvent {
  readonly sessionId: string
  readonly manual: boolean
  readonly foreground: boolean
  readonly outcome: 'completed'
  readonly durationMs: number
  readonly tokensBefore: number
  readonly tokensAfter: number
  /** 'fallback' when the primary summarizer failed (or its breaker was open) and the fallback wrote it. */
  readonly summarizer: 'primary' | 'fallback'
  /** What made the primary fail, when the fallback wrote the summary. */
  readonly primaryError?: unknown
  /** Requests sent to the primary summarizer: 0 when the fallback wrote it alone, more than 1 for a chunked transcript (P14). */
  readonly summarizerCalls: number
}

/** Why a run failed. */
export type CompactionFailure = 'error' | 'timeout' | 'aborted' | 'malformed'

/** A run failed: nothing recorded, messages untouched, marker cleared (P7). */
export interface CompactionFailedEvent {
  readonly sessionId: string
  readonly manual: boolean
  readonly foreground: boolean
  readonly outcome: 'failed'
  readonly durationMs: number
  readonly reason: CompactionFailure
  /** The error text, for logs. */
  readonly message: string
  readonly error: unknown
}

/**
 * A result was refused: it would not end below 0.8 × the trigger ('not_below_target', at the end of
 * a run), or the conversation changed under it ('prefix_changed', at the turn boundary).
 */
export interface CompactionRejectedEvent {
  readonly sessionId: string
  readonly manual: boolean
  readonly foreground: boolean
  readonly outcome: 'rejected'
  readonly durationMs: number
  readonly reason: Exclude<CompactionRefusal, 'malformed_summary' | 'cannot_fit'>
  readonly tokensBefore: number
  /** Estimated tokens the result would have left, for 'not_below_target'. */
  readonly tokensAfter?: number
}

/** Every admission decision, with the session it was made for. */
export interface CompactionAdmissionEvent {
  readonly sessionId: string
  readonly decision: AdmissionDecision
  /** Time spent deciding (store and signal reads). */
  readonly durationMs: number
}

/**
 * `prepareRequest` removed content to make a request fit because compaction could not (P11): the
 * oldest unpinned messages dropped (whole tool call groups), then oversized outputs cut.
 */
export interface CompactionTrimmedEvent {
  readonly sessionId: string
  /** Calibrated tokens before and after, and the budget (window − output tokens). */
  readonly tokensBefore: number
  readonly tokensAfter: number
  readonly budget: number
  /** Messages removed. */
  readonly droppedMessages: number
  /** Messages whose content was cut with a marker. */
  readonly cutMessages: number
}
