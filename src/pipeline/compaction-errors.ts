import { hasResilienceCode, ResilienceError } from '../core/errors/resilience-error.js'

/** Why a compaction result was not applied. */
export type CompactionRefusal = 'prefix_changed' | 'malformed_summary' | 'not_below_target' | 'cannot_fit'

/**
 * A compaction result was refused; the messages were left untouched. `prefix_changed`: the
 * summarized messages changed since the plan; `malformed_summary`: the summarizer returned an empty
 * or non-string result; `not_below_target`: the result would not end below 0.8 × the trigger;
 * `cannot_fit`: `prepareRequest` cannot make the request fit the window even by trimming, because
 * the pinned system messages (never cut) alone exceed it (`tokensAfter` holds what remained).
 */
export class CompactionRefusedError extends ResilienceError {
  readonly reason: CompactionRefusal
  /** For 'not_below_target': the estimated tokens the result would have left. */
  readonly tokensAfter: number | undefined

  constructor(reason: CompactionRefusal, message: string, tokensAfter?: number) {
    super('BREAKWATER_COMPACTION_REFUSED', `compaction refused (${reason}): ${message}`)
    this.reason = reason
    this.tokensAfter = tokensAfter
  }
}

export function isCompactionRefusedError(error: unknown): error is CompactionRefusedError {
  return hasResilienceCode(error, 'BREAKWATER_COMPACTION_REFUSED')
}

/** Work was refused because the same session is busy (a turn or a compaction is running). */
export class AlreadyRunningError extends ResilienceError {
  readonly sessionId: string
  /** What is running: the session's turn, a compaction, or the session is paused. */
  readonly running: 'turn' | 'compaction' | 'paused'

  constructor(sessionId: string, running: 'turn' | 'compaction' | 'paused') {
    super('BREAKWATER_ALREADY_RUNNING', `session "${sessionId}" is busy: ${running}`)
    this.sessionId = sessionId
    this.running = running
  }
}

export function isAlreadyRunningError(error: unknown): error is AlreadyRunningError {
  return hasResilienceCode(error, 'BREAKWATER_ALREADY_RUNNING')
}
