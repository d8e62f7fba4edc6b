import { hasResilienceCode, ResilienceError } from './resilience-error.js'

/** Which bound ran out: one attempt, the whole call including retries, or the gap between stream chunks. */
export type TimeoutKind = 'attempt' | 'total' | 'idle'

/** Thrown when a timeout guard's bound runs out. 'attempt' and 'idle' are retryable, 'total' is not. */
export class TimeoutError extends ResilienceError {
  readonly kind: TimeoutKind
  readonly timeoutMs: number

  constructor(kind: TimeoutKind, timeoutMs: number) {
    super('BREAKWATER_TIMEOUT', `${kind} timeout of ${timeoutMs} ms exceeded`)
    this.kind = kind
    this.timeoutMs = timeoutMs
  }
}

export function isTimeoutError(error: unknown): error is TimeoutError {
  return hasResilienceCode(error, 'BREAKWATER_TIMEOUT')
}

/**
 * The error a caller should see: when the work was aborted by a breakwater timeout, that
 * TimeoutError — the SDK would report its own abort error, or end a stream quietly.
 */
export function surfaceTimeout(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && isTimeoutError(signal.reason)) return signal.reason
  return error
}
