/** Shared pieces of the rate limit tests. */
import type { CallOptions } from '../../src/core/call-options.js'
import type { Guard } from '../../src/core/guard.js'
import type { TestClock } from '../../src/testing/test-clock.js'

/** Records when each labelled call's function started (clock time), in start order. */
export function recorder(clock: TestClock) {
  const starts: { label: string; at: number }[] = []
  return {
    starts,
    order: () => starts.map((s) => s.label),
    at: (label: string) => starts.find((s) => s.label === label)?.at,
    /** Runs a labelled call through `guard`; resolves to its label, or to the error it failed with. */
    call(guard: Guard, label: string, call?: CallOptions): Promise<string | unknown> {
      return guard
        .execute(() => {
          starts.push({ label, at: clock.now() })
          return label
        }, call)
        .catch((error: unknown) => error)
    },
  }
}

/** An error shaped like a provider SDK's HTTP error with headers. */
export function providerError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers })
}

/**
 * A provider's request budget as OpenAI keeps it: a bucket of `limit` that refills `limit` per
 * `windowMs` continuously, reported on every answer in `x-ratelimit-*-requests` headers; a request
 * that finds it empty is answered 429 with `retry-after-ms`.
 */
export function providerBudget(limit: number, windowMs: number, now: () => number) {
  let level = limit
  let at = now()
  const rate = limit / windowMs
  const stats = { accepted: 0, rejected: 0 }
  const refill = (): void => {
    const t = now()
    level = Math.min(limit, level + (t - at) * rate)
    at = t
  }
  const headers = (): Record<string, string> => ({
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': String(Math.floor(level)),
    'x-ratelimit-reset-requests': `${Math.ceil((limit - level) / rate)}ms`,
  })
  return {
    stats,
    /** One request arrives: the headers of its answer, or a 429 error. */
    request(): Record<string, string> {
      refill()
      if (level >= 1) {
        level -= 1
        stats.accepted++
        return headers()
      }
      stats.rejected++
      const h = { ...headers(), 'retry-after-ms': String(Math.ceil((1 - level) / rate)) }
      throw providerError(429, h)
    },
  }
}
