import type { Event } from '../core/events.js'

/** The three states of a breaker. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * The breaker's configuration, as the guard resolved it. Backends apply it atomically with the
 * state (the Redis backend stores it in the service's hash and reports mismatches, D1).
 */
export interface CircuitConfig {
  /** Consecutive failures that open a closed breaker. */
  readonly threshold: number
  /** Open time after the first opening, in ms. */
  readonly recoveryMs: number
  /** Cap of the backed-off open time (recoveryMs · 2^k with jitter). */
  readonly maxRecoveryMs: number
  /** Successful probes that close a half-open breaker. */
  readonly halfOpenSuccesses: number
  /** How long a probe lease lives before another caller may probe (a crashed prober cannot block recovery). */
  readonly probeLeaseMs: number
  /** Optional failure-rate mode: open when failures / calls in the window exceed `ratio` with at least `minCalls`. */
  readonly failureRate?: { readonly ratio: number; readonly minCalls: number; readonly windowMs: number }
}

/** What the backend says about one call before it runs. */
export type Admission =
  | { readonly kind: 'allow' }
  /** Half-open: this call is the one probe; report with the token (and generation, for Redis). */
  | { readonly kind: 'probe'; readonly token: string }
  /**
   * Open, or half-open with the probe taken: fail fast. `retryAfterMs` is 0 when a probe is running
   * and `Number.POSITIVE_INFINITY` while the breaker is isolated. `cooldown` is true when the
   * breaker is open only for a provider's Retry-After (D6): it closes when `retryAfterMs` is up.
   */
  | {
      readonly kind: 'deny'
      readonly retryAfterMs: number
      readonly state: CircuitState
      readonly cooldown?: boolean
    }

/** A finished call's outcome, as classified ('ignore' outcomes are not recorded, a probe's lease is released instead). */
export interface OutcomeReport {
  readonly outcome: 'success' | 'failure'
  /** The probe token, when the call was admitted as a probe. */
  readonly token?: string
}

export interface CircuitSnapshot {
  readonly state: CircuitState
  /** Consecutive failures counted while closed. */
  readonly failures: number
  /** Time until an open breaker admits a probe; 0 otherwise; `Number.POSITIVE_INFINITY` while isolated. */
  readonly retryAfterMs: number
}

export interface StateChange {
  readonly service: string
  readonly from: CircuitState
  readonly to: CircuitState
}

/**
 * Where breaker state lives. Methods may answer synchronously (the in-memory backend does, so the
 * hot path allocates no promise) or with a promise (Redis). A backend never throws a provider error
 * and never lets its own failure reach the caller: a Redis backend falls back instead (D5).
 */
export interface CircuitBackend {
  admit(service: string, config: CircuitConfig): Admission | Promise<Admission>
  record(service: string, config: CircuitConfig, report: OutcomeReport): void | Promise<void>
  /** A probe ended with an 'ignore' outcome (abort, 429 without cooldown…): free the lease for the next caller. */
  release(service: string, config: CircuitConfig, token: string): void | Promise<void>
  /** Extends a probe's lease while a held stream is still running (D4). */
  renew(service: string, config: CircuitConfig, token: string): void | Promise<void>
  /**
   * Holds the service back for `ms` without counting a failure (fleet cooldown on 429/529 +
   * Retry-After, D6). `ms` is capped at `config.maxRecoveryMs`. A closed breaker opens as a
   * cooldown and is closed again when the time is up (no probe gate). An open breaker stays open
   * for the longer of the two and keeps its kind; a half-open one drops its probe and reopens as an
   * outage; an isolated breaker is left as it is.
   */
  cooldown(service: string, config: CircuitConfig, ms: number): void | Promise<void>
  /** Forces the breaker open until `reset()`. */
  isolate(service: string, config: CircuitConfig): void | Promise<void>
  /** Forces the breaker closed and clears its counts and backoff. */
  reset(service: string, config: CircuitConfig): void | Promise<void>
  snapshot(service: string, config: CircuitConfig): CircuitSnapshot | Promise<CircuitSnapshot>
  /** Fires on every transition this backend observes (for Redis: those it learns of, from any process). */
  readonly onStateChange: Event<StateChange>
}
