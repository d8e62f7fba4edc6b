/**
 * The breaker's state machine, as deterministic functions of (record, config, now, random). The
 * in-memory backend runs them as they are; the Redis Lua scripts and the reference model used by
 * the property tests mirror them rule for rule. Functions mutate the record in place (no
 * allocation on the hot path); the caller compares `state` before and after to raise events. Each
 * function performs at most one transition after `tick`.
 *
 * Rules:
 * 1. closed: a 'failure' adds one to `failures`; a 'success' sets it back to 0. `failures` reaching
 *    `threshold` opens the breaker. With `failureRate`, every outcome also enters a sliding window
 *    and the breaker opens when failures reach `ratio` of at least `minCalls` calls.
 * 2. open: every call is denied with the time left. Once `openUntil` passes (`tick`), the breaker
 *    turns half-open — unless it is isolated, which only `reset` ends.
 * 3. half-open: one caller at a time gets the probe (a token and a lease of `probeLeaseMs`); the
 *    others are denied with `retryAfterMs` 0. A successful probe counts toward
 *    `halfOpenSuccesses`; reaching it closes the breaker and forgets failures, window and backoff.
 *    A failed probe reopens it for the next backed-off duration (`openDurationMs`). A released or
 *    expired lease frees the probe for the next caller. Only the probe's own token counts.
 * 4. Outcomes reported without a token while open or half-open are late answers from calls
 *    admitted before the breaker opened: they are ignored.
 * 5. cooldown(ms) is the provider's "not before T" (a 429 or 529 with Retry-After), not an outage:
 *    a closed breaker opens for `ms` (capped at `maxRecoveryMs`) without counting a failure or a
 *    backoff step, marked `cooling`, and when the time is up it is closed again — no single-probe
 *    gate, so every caller that waited goes through. An open breaker stays open for the longer of
 *    the two and keeps its kind (an outage still recovers through half-open); a half-open one drops
 *    its probe and reopens as an outage for the cooldown, then probes as before.
 */
import type {
  Admission,
  CircuitConfig,
  CircuitSnapshot,
  CircuitState,
  OutcomeReport,
} from './circuit-backend.js'
import {
  addToWindow,
  clearWindow,
  type FailureWindow,
  newWindow,
  rateReached,
  WINDOW_BUCKETS,
} from './failure-window.js'
import { openDurationMs } from './recovery-backoff.js'

/** One service's breaker. */
export interface BreakerRecord {
  state: CircuitState
  /** Consecutive failures while closed; kept while open, zeroed when the breaker closes. */
  failures: number
  /** Consecutive openings without a close in between (0 = opened from closed): the backoff step. */
  opens: number
  /** While open: when the breaker turns half-open (backend clock). */
  openUntil: number
  /** Forced open by `isolate` until `reset`. */
  isolated: boolean
  /** Open for a provider's cooldown (rule 5): when `openUntil` passes it closes instead of probing. */
  cooling: boolean
  /** Token of the running half-open probe, if any. */
  probe: string | undefined
  /** When the probe's lease runs out (backend clock). */
  probeUntil: number
  /** Successful probes in the current half-open period. */
  probeSuccesses: number
  /** Failure-rate window, created on the first outcome that needs one. */
  window: FailureWindow | undefined
}

/** The one 'allow' admission, shared: admitting a call while closed allocates nothing. */
export const ALLOW: Admission = Object.freeze({ kind: 'allow' })

export function newRecord(): BreakerRecord {
  return {
    state: 'closed',
    failures: 0,
    opens: 0,
    openUntil: 0,
    isolated: false,
    cooling: false,
    probe: undefined,
    probeUntil: 0,
    probeSuccesses: 0,
    window: undefined,
  }
}

/**
 * Applies the passage of time: open → half-open when the open time is up (closed when it was a
 * cooldown); an expired lease is freed.
 */
export function tick(r: BreakerRecord, now: number): void {
  if (r.state === 'open') {
    if (r.isolated || now < r.openUntil) return
    if (r.cooling) {
      r.state = 'closed'
      r.cooling = false
      return
    }
    r.state = 'half-open'
    r.probe = undefined
    r.probeSuccesses = 0
  } else if (r.state === 'half-open' && r.probe !== undefined && now >= r.probeUntil) {
    r.probe = undefined
  }
}

/** Decides whether a call may run. `token` is called only when a probe is handed out. */
export function admitCall(
  r: BreakerRecord,
  config: CircuitConfig,
  now: number,
  token: () => string,
): Admission {
  if (r.state === 'closed') return ALLOW
  if (r.state === 'open') {
    return r.cooling
      ? { kind: 'deny', retryAfterMs: retryAfter(r, now), state: 'open', cooldown: true }
      : { kind: 'deny', retryAfterMs: retryAfter(r, now), state: 'open' }
  }
  if (r.probe !== undefined) return { kind: 'deny', retryAfterMs: 0, state: 'half-open' }
  r.probe = token()
  r.probeUntil = now + config.probeLeaseMs
  return { kind: 'probe', token: r.probe }
}

/** Applies a finished call's outcome (rules 1, 3, 4). */
export function recordOutcome(
  r: BreakerRecord,
  config: CircuitConfig,
  report: OutcomeReport,
  now: number,
  random: () => number,
): void {
  const failed = report.outcome === 'failure'
  if (r.state === 'closed') {
    if (report.token !== undefined) return // a probe token from an earlier half-open period
    const rate = config.failureRate
    let rateOpens = false
    if (rate !== undefined) {
      const bucketMs = rate.windowMs / WINDOW_BUCKETS
      if (r.window === undefined || r.window.bucketMs !== bucketMs) r.window = newWindow(rate.windowMs, now)
      addToWindow(r.window, now, failed)
      rateOpens = failed && rateReached(r.window, rate.ratio, rate.minCalls)
    }
    if (!failed) {
      r.failures = 0
      return
    }
    r.failures++
    if (rateOpens || r.failures >= config.threshold) open(r, config, now, 0) // opens is 0: no jitter
    return
  }
  if (r.state === 'open' || report.token === undefined || report.token !== r.probe) return
  if (failed) {
    // Drawn before anything changes: a `random` that throws leaves the record as it was.
    const jitter = random()
    r.probe = undefined
    r.opens++
    open(r, config, now, jitter)
    return
  }
  r.probe = undefined
  if (++r.probeSuccesses >= config.halfOpenSuccesses) close(r)
}

/** A probe ended without a verdict: the next caller may probe. */
export function releaseProbe(r: BreakerRecord, token: string): void {
  if (r.state === 'half-open' && r.probe === token) r.probe = undefined
}

/** A held probe is still running: extend its lease. */
export function renewProbe(r: BreakerRecord, config: CircuitConfig, token: string, now: number): void {
  if (r.state === 'half-open' && r.probe === token) r.probeUntil = now + config.probeLeaseMs
}

/** Holds calls back for at least `ms` (capped at `maxRecoveryMs`) without counting a failure (rule 5). */
export function coolDown(r: BreakerRecord, config: CircuitConfig, ms: number, now: number): void {
  if (r.isolated || !(ms > 0)) return
  const until = now + Math.min(ms, config.maxRecoveryMs)
  if (r.state === 'open') {
    if (until > r.openUntil) r.openUntil = until
    return
  }
  // Closed: a pause that ends closed. Half-open: the outage is still being probed, so it stays one.
  r.cooling = r.state === 'closed'
  r.state = 'open'
  r.openUntil = until
  r.probe = undefined
  r.probeSuccesses = 0
}

/** Forces the breaker open until `resetRecord`. */
export function isolateRecord(r: BreakerRecord): void {
  r.state = 'open'
  r.isolated = true
  r.cooling = false
  r.probe = undefined
  r.probeSuccesses = 0
}

/** Forces the breaker closed and forgets failures, window and backoff. */
export function resetRecord(r: BreakerRecord): void {
  r.isolated = false
  r.opens = 0
  close(r)
}

export function snapshotOf(r: BreakerRecord, now: number): CircuitSnapshot {
  return {
    state: r.state,
    failures: r.failures,
    retryAfterMs: r.state === 'open' ? retryAfter(r, now) : 0,
  }
}

/** True when the record is exactly a new one: closed, nothing counted. */
export function isIdle(r: BreakerRecord): boolean {
  return r.state === 'closed' && r.failures === 0 && (r.window === undefined || r.window.callSum === 0)
}

/** Time until an open breaker admits a probe; Infinity while isolated. */
function retryAfter(r: BreakerRecord, now: number): number {
  return r.isolated ? Number.POSITIVE_INFINITY : Math.max(0, r.openUntil - now)
}

/** Opens for the backed-off duration; `jitter` in [0, 1) spreads a repeated opening. */
function open(r: BreakerRecord, config: CircuitConfig, now: number, jitter: number): void {
  r.state = 'open'
  r.cooling = false
  r.openUntil = now + openDurationMs(config, r.opens, jitter)
  r.probe = undefined
  r.probeSuccesses = 0
  if (r.window !== undefined) clearWindow(r.window)
}

function close(r: BreakerRecord): void {
  r.state = 'closed'
  r.cooling = false
  r.failures = 0
  r.opens = 0
  r.probe = undefined
  r.probeSuccesses = 0
  if (r.window !== undefined) clearWindow(r.window)
}
