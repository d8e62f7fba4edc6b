import { backpressureGuard, type BackpressureGuard } from '../backpressure/backpressure-guard.js'
import type { BackpressureOptions } from '../backpressure/backpressure-options.js'
import { circuitGuard, type CircuitGuard } from '../circuit/circuit-guard.js'
import type { CircuitOptions } from '../circuit/circuit-options.js'
import type { Clock } from '../core/clock.js'
import { compose, type ComposedGuard } from '../core/compose.js'
import type { Guard } from '../core/guard.js'
import { MAX_TIMER_MS, optionalBoolean, requireOptions } from '../core/validate.js'
import { dedupeGuard, type DedupeGuard } from '../dedupe/dedupe-guard.js'
import type { DedupeOptions } from '../dedupe/dedupe-options.js'
import { rateLimitGuard, type RateLimitGuard } from '../ratelimit/rate-limit-guard.js'
import type { RateLimitOptions } from '../ratelimit/rate-limit-options.js'
import { retryBudget, type RetryBudget } from '../retry/retry-budget.js'
import { retryGuard, type RetryGuard } from '../retry/retry-guard.js'
import type { RetryOptions } from '../retry/retry-options.js'
import { setTracing } from '../telemetry/tracer.js'
import { timeoutGuard, type TimeoutGuard } from '../timeout/timeout-guard.js'
import type { TimeoutOptions } from '../timeout/timeout-options.js'

const OWNER = 'llmGuard'
const PROBE_LEASE_MARGIN_MS = 10_000

/** Defaults for LLM calls, each overridable per layer. */
export const LLM_GUARD_DEFAULTS = Object.freeze({
  dedupe: Object.freeze({ ttlMs: 0 }),
  retry: Object.freeze({ maxAttempts: 3, baseDelayMs: 500 }),
  retryBudget: Object.freeze({ ratio: 0.2, minPerSecond: 10 }),
  backpressure: Object.freeze({
    hardLimit: 64,
    softLimit: 48,
    softAction: 'shed-background' as const,
    maxQueue: 128,
    queueTimeoutMs: 30_000,
  }),
  circuit: Object.freeze({ threshold: 5, recoveryMs: 30_000 }),
  timeout: Object.freeze({ attemptMs: 120_000, idleMs: 30_000, totalMs: 300_000 }),
})

/** Each layer: `false` leaves it out, an object overrides the defaults it names. */
export interface LlmGuardOptions {
  /** Service for calls that name none (breaker state and metrics are per service). */
  service?: string
  /** Default `{ ttlMs: 0 }`: concurrent identical calls (same `key`) coalesce; nothing is cached after. */
  dedupe?: Partial<DedupeOptions> | false
  /** Default `{ maxAttempts: 3, baseDelayMs: 500 }` with a retry budget of 20 % + 10/s per guard. */
  retry?: Partial<RetryOptions> | false
  /**
   * The provider's budget per window (`rateLimitGuard`): off unless given. `{ requests, tokens,
   * windowMs, store, maxWaitMs, learnFromHeaders }` as `rateLimitGuard` takes them (`service` and
   * `clock` default to llmGuard's); `{}` alone learns the budget from the providers' rate-limit
   * headers. Pass a `RedisRateLimitStore` as `store` to share one budget across a fleet. It sits
   * inside retry (each attempt takes from the budget, and a retry waiting for budget holds nothing)
   * and outside backpressure (a call waiting for budget holds no slot). With the provider wrappers
   * or the AI SDK middleware, each answer's rate-limit headers and 429s are learned and its token
   * usage settles the call's reservation. Default: none (`false`).
   */
  rateLimit?: Partial<RateLimitOptions> | false
  /** Default `{ hardLimit: 64, softLimit: 48, softAction: 'shed-background', maxQueue: 128, queueTimeoutMs: 30 000 }`. */
  backpressure?: Partial<BackpressureOptions> | false
  /** Default `{ threshold: 5, recoveryMs: 30 000 }`, in memory. Pass `backend` to share it (Redis). */
  circuit?: Partial<CircuitOptions> | false
  /** Default `{ attemptMs: 120 000, idleMs: 30 000, totalMs: 300 000 }`. */
  timeout?: TimeoutOptions | false
  /** Clock for every layer that has none of its own. */
  clock?: Clock
  /**
   * Whether calls through this guard are `breakwater.call` spans (OpenTelemetry). Spans exist only
   * once an app registers a tracer provider; `false` turns them off for this guard
   * (`setTracing(guard, false)`; `setTracing(guard, true)` turns them back on). Default true.
   */
  tracing?: boolean
}

/** The preset, with each layer reachable by name (undefined when left out). */
export interface LlmGuard extends ComposedGuard {
  readonly dedupe: DedupeGuard | undefined
  readonly retry: RetryGuard | undefined
  readonly rateLimit: RateLimitGuard | undefined
  readonly backpressure: BackpressureGuard | undefined
  readonly circuit: CircuitGuard | undefined
  readonly timeout: TimeoutGuard | undefined
  readonly budget: RetryBudget | undefined
}

function layer<T extends object>(
  option: string,
  value: Partial<T> | false | undefined,
): Partial<T> | undefined {
  if (value === false) return undefined
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `${OWNER}: option "${option}" must be an options object or false, got ${String(value)}`,
    )
  }
  // An option spelled out as undefined means "the default", not "none".
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/**
 * The recommended composition for LLM calls: dedupe → retry → rate limit (when given) →
 * backpressure → circuit → timeout.
 *
 * - dedupe outermost: joined callers share one whole (retried) call, and only one of them holds a
 *   slot or a probe, or takes from the budget;
 * - retry outside backpressure and the breaker: a sleeping retry holds no slot and no probe lease,
 *   and each attempt is admitted afresh (an open breaker stops the retries at once);
 * - the rate limit inside retry: each attempt is a request the provider counts, so each takes from
 *   the budget, and a retry waiting for budget holds nothing; outside backpressure: a call waiting
 *   for budget holds no slot (and a call shed or refused by the breaker gives its take back);
 * - backpressure before the breaker: shed load never reaches the breaker, and a queued call is
 *   admitted by the breaker only when it is about to run;
 * - the breaker right before the timeout: its admission is the last step before `fn`, and it
 *   counts attempt timeouts as failures.
 */
export function llmGuard(options: LlmGuardOptions = {}): LlmGuard {
  const o = requireOptions<LlmGuardOptions>(OWNER, options, true)
  const shared = {
    ...(o.service !== undefined && { service: o.service }),
    ...(o.clock !== undefined && { clock: o.clock }),
  }
  const d = LLM_GUARD_DEFAULTS

  const dedupeOptions = layer<DedupeOptions>('dedupe', o.dedupe)
  const retryOptions = layer<RetryOptions>('retry', o.retry)
  // Off unless given: a budget is the provider's, and only the user knows it (or wants it learned).
  const rateLimitOptions =
    o.rateLimit === undefined ? undefined : layer<RateLimitOptions>('rateLimit', o.rateLimit)
  const tracing = optionalBoolean(OWNER, 'tracing', o.tracing, true)
  const backpressureOptions = layer<BackpressureOptions>('backpressure', o.backpressure)
  const circuitOptions = layer<CircuitOptions>('circuit', o.circuit)
  const timeoutOptions = layer<TimeoutOptions>('timeout', o.timeout)

  const dedupe = dedupeOptions && dedupeGuard({ ...d.dedupe, ...shared, ...dedupeOptions })
  let budget: RetryBudget | undefined
  if (retryOptions) {
    budget = retryOptions.budget ?? retryBudget({ ...d.retryBudget, ...(o.clock && { clock: o.clock }) })
  }
  const retry = retryOptions && retryGuard({ ...d.retry, ...shared, ...retryOptions, budget })
  const rateLimit = rateLimitOptions && rateLimitGuard({ ...shared, ...rateLimitOptions })
  const backpressure =
    backpressureOptions && backpressureGuard(backpressureWithDefaults(backpressureOptions, shared))
  const timeout =
    timeoutOptions && timeoutGuard({ ...d.timeout, ...(o.clock && { clock: o.clock }), ...timeoutOptions })
  const circuit =
    circuitOptions && circuitGuard({ ...d.circuit, ...probeLeaseFor(timeout), ...shared, ...circuitOptions })

  const layers = [dedupe, retry, rateLimit, backpressure, circuit, timeout].filter(
    (g): g is NonNullable<typeof g> => !!g,
  )
  const composed = compose(...(layers as Guard[]))
  if (!tracing) setTracing(composed, false)
  return Object.assign(composed, { dedupe, retry, rateLimit, backpressure, circuit, timeout, budget })
}

/**
 * A probe's lease must outlive its attempt, or a slow probe loses it and a second probe is let in:
 * the lease defaults to the attempt bound plus a margin (only when the caller sets none).
 */
function probeLeaseFor(timeout: TimeoutGuard | undefined): { probeLeaseMs?: number } {
  const attemptMs = timeout?.attemptMs
  return attemptMs === undefined
    ? {}
    : { probeLeaseMs: Math.min(attemptMs + PROBE_LEASE_MARGIN_MS, MAX_TIMER_MS) }
}

/** A caller who sets only `hardLimit` gets a soft limit at 3/4 of it (none when that would not be below it). */
function backpressureWithDefaults(given: Partial<BackpressureOptions>, shared: object): BackpressureOptions {
  const { softLimit: defaultSoftLimit, ...d } = LLM_GUARD_DEFAULTS.backpressure
  const hardLimit = given.hardLimit ?? d.hardLimit
  let softLimit = given.softLimit
  if (softLimit === undefined && given.hardLimit === undefined) softLimit = defaultSoftLimit
  else if (softLimit === undefined && typeof hardLimit === 'number' && Math.floor(hardLimit * 0.75) >= 1) {
    softLimit = Math.floor(hardLimit * 0.75)
  }
  return { ...d, ...shared, ...given, hardLimit, ...(softLimit !== undefined && { softLimit }) }
}
