import type { RateLimitObservation } from './rate-limit-options.js'

/** Checks what `rateLimitGuard.observe()` is given (it is called by hand), naming what is wrong. */
export function checkObservation(service: unknown, o: unknown): string {
  if (typeof service !== 'string' || service === '') {
    throw new TypeError(`rateLimitGuard.observe: service must be a non-empty string, got ${String(service)}`)
  }
  if (typeof o !== 'object' || o === null) {
    throw new TypeError(`rateLimitGuard.observe: the observation must be an object, got ${String(o)}`)
  }
  const { status, usage, reserved } = o as RateLimitObservation
  if (status !== undefined && (!Number.isInteger(status) || status < 100 || status > 599)) {
    throw new RangeError(`rateLimitGuard.observe: "status" must be an HTTP status, got ${String(status)}`)
  }
  if (
    reserved !== undefined &&
    !(typeof reserved === 'number' && Number.isFinite(reserved) && reserved >= 0)
  ) {
    throw new RangeError(
      `rateLimitGuard.observe: "reserved" must be a finite number >= 0, got ${String(reserved)}`,
    )
  }
  if (usage !== undefined) {
    if (typeof usage !== 'object' || usage === null) {
      throw new TypeError(`rateLimitGuard.observe: "usage" must be an object, got ${String(usage)}`)
    }
    for (const field of ['inputTokens', 'outputTokens', 'totalTokens'] as const) {
      const v = usage[field]
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new RangeError(
          `rateLimitGuard.observe: "usage.${field}" must be a finite number >= 0, got ${String(v)}`,
        )
      }
    }
  }
  return service
}
