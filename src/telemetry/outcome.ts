import { classifyError, type Health } from '../classify/classify-error.js'
import { isBackpressureShedError } from '../core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import { isResilienceError } from '../core/errors/resilience-error.js'
import { isTimeoutError } from '../core/errors/timeout-error.js'

/**
 * How a call ended, as the `breakwater.outcome` span attribute says it (bounded):
 * 'success'; 'circuit_open' (a breaker refused it, any `BrokenCircuitError` reason); 'shed'
 * (backpressure); 'rate_limited' (a rate limit refused it); 'timeout' (a breakwater timeout);
 * 'aborted' (the caller's signal); 'failure' (any other error, the provider's or the function's).
 */
export type CallOutcome =
  'success' | 'circuit_open' | 'shed' | 'rate_limited' | 'timeout' | 'aborted' | 'failure'

export function outcomeOf(error: unknown, callerAborted: boolean): CallOutcome {
  if (isBrokenCircuitError(error)) return 'circuit_open'
  if (isBackpressureShedError(error)) return 'shed'
  if (isResilienceError(error) && (error.code as string) === 'BREAKWATER_RATE_LIMITED') return 'rate_limited'
  if (callerAborted) return 'aborted'
  if (isTimeoutError(error)) return 'timeout'
  return 'failure'
}

/** The breaker's view of a failed call (for calls_total): a caller's abort says nothing about the provider. */
export function healthOf(error: unknown, callerAborted: boolean): Health {
  return callerAborted ? 'ignore' : classifyError(error).health
}

/** `error.type` (OpenTelemetry semantic conventions): the error's code, else its class name. */
export function errorType(error: unknown): string {
  if (isResilienceError(error)) return error.code
  if (error instanceof Error) return error.name
  return typeof error
}
