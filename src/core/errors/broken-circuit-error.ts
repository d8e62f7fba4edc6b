import { hasResilienceCode, ResilienceError } from './resilience-error.js'

/** Thrown, without calling the function, while a service's circuit is open or its probe is taken. */
export class BrokenCircuitError extends ResilienceError {
  readonly service: string
  /** How long until the breaker admits a probe again; 0 when another caller holds the probe. */
  readonly retryAfterMs: number

  constructor(service: string, retryAfterMs: number, message?: string) {
    super(
      'BREAKWATER_BROKEN_CIRCUIT',
      message ?? `circuit for service "${service}" is open; retry after ${Math.ceil(retryAfterMs)} ms`,
    )
    this.service = service
    this.retryAfterMs = retryAfterMs
  }
}

export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return hasResilienceCode(error, 'BREAKWATER_BROKEN_CIRCUIT')
}
