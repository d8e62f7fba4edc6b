/**
 * Brand shared by every copy of breakwater in a process: `Symbol.for` keys are global, so an error
 * thrown by one installed copy is recognised by another, where `instanceof` would fail.
 */
const BRAND = Symbol.for('breakwater.ResilienceError')

/** Codes of the errors breakwater originates. */
export type ResilienceErrorCode =
  | 'BREAKWATER_TIMEOUT'
  | 'BREAKWATER_BROKEN_CIRCUIT'
  | 'BREAKWATER_BACKPRESSURE_SHED'
  | 'BREAKWATER_RATE_LIMITED'
  | 'BREAKWATER_ALREADY_RUNNING'
  | 'BREAKWATER_STAGE_FAILED'
  | 'BREAKWATER_COMPACTION_REFUSED'

/** Base class of every error breakwater originates. The caller's own errors are never wrapped. */
export class ResilienceError extends Error {
  declare readonly [BRAND]: true
  readonly code: ResilienceErrorCode

  constructor(code: ResilienceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    Object.defineProperty(this, BRAND, { value: true })
  }
}

/** True for any error breakwater originated, from this or another installed copy. */
export function isResilienceError(error: unknown): error is ResilienceError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true
}

/** True when `error` is a breakwater error with the given code. */
export function hasResilienceCode(error: unknown, code: ResilienceErrorCode): boolean {
  return isResilienceError(error) && error.code === code
}
