import { hasResilienceCode, ResilienceError } from './resilience-error.js'

/**
 * Why a breaker refused a call: `'open'` after failures (an outage), `'half-open'` while another
 * caller holds the probe, `'isolated'` until `reset()`, `'cooldown'` while the provider asked to
 * wait (a 429 or 529 with Retry-After): the breaker closes again when `retryAfterMs` is up.
 */
export type BrokenCircuitReason = 'open' | 'half-open' | 'isolated' | 'cooldown'

/** Thrown, without calling the function, while a service's circuit is open or its probe is taken. */
export class BrokenCircuitError extends ResilienceError {
  readonly service: string
  /** How long until the breaker admits a probe again; 0 when another caller holds the probe. */
  readonly retryAfterMs: number
  readonly reason: BrokenCircuitReason

  constructor(service: string, retryAfterMs: number, reason: BrokenCircuitReason = 'open', message?: string) {
    super('BREAKWATER_BROKEN_CIRCUIT', message ?? defaultMessage(service, retryAfterMs, reason))
    this.service = service
    this.retryAfterMs = retryAfterMs
    this.reason = reason
  }
}

function defaultMessage(service: string, retryAfterMs: number, reason: BrokenCircuitReason): string {
  const wait = Math.ceil(retryAfterMs)
  switch (reason) {
    case 'isolated':
      return `circuit for service "${service}" is isolated until reset`
    case 'half-open':
      return `circuit for service "${service}" is half-open and its probe is taken`
    case 'cooldown':
      return `service "${service}" is cooling down at the provider's request; retry after ${wait} ms`
    default:
      return `circuit for service "${service}" is open; retry after ${wait} ms`
  }
}

export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return hasResilienceCode(error, 'BREAKWATER_BROKEN_CIRCUIT')
}
