import type { BrokenCircuitReason } from '../core/errors/broken-circuit-error.js'
import type { Clock } from '../core/clock.js'
import type { Health } from '../classify/classify-error.js'
import type { CircuitBackend, CircuitState } from './circuit-backend.js'

export interface FailureRateOptions {
  /**
   * Share of failed calls in the window that opens the breaker, in (0, 1]: it opens when
   * failures / calls reaches this value (`>=`, so 1 means "every call failed").
   */
  ratio: number
  /** Calls the window must hold before the ratio is judged. An integer >= 1. */
  minCalls: number
  /** Length of the sliding window in ms (it slides in tenths). A number > 0. */
  windowMs: number
}

export interface CircuitOptions {
  /** The service this guard protects when a call names none (the call's `service` wins). Default 'default'. */
  service?: string
  /**
   * Consecutive 'failure' outcomes that open a closed breaker; a 'success' in between starts the
   * count again. Required; an integer >= 1. Also applies in failure-rate mode (set it high to rely
   * on the rate alone).
   */
  threshold: number
  /** How long the breaker stays open after its first opening, in ms. Required; a number > 0. */
  recoveryMs: number
  /** Also open when the failure ratio over a sliding window reaches `ratio` (see FailureRateOptions). Default: off. */
  failureRate?: FailureRateOptions
  /** Successful probes, one at a time, that close a half-open breaker. An integer >= 1. Default 1. */
  halfOpenSuccesses?: number
  /**
   * Cap of the open time as it backs off after failed probes (each failed probe doubles it, with
   * jitter), and of a provider-requested cooldown. At least `recoveryMs`. Default
   * `10 × recoveryMs`, but no more than 300 000 (5 min), and never below `recoveryMs`.
   */
  maxRecoveryMs?: number
  /**
   * How long a half-open probe holds its lease before another caller may probe: a probe that hangs
   * or whose process died cannot block recovery. Renewed while a held call (a stream) runs. Set it
   * above your attempt timeout. A number > 0. Default 60 000.
   */
  probeLeaseMs?: number
  /**
   * Where breaker state lives. Guards given the same backend share the state of each service.
   * Default: a new `InMemoryCircuitBackend({ clock, random })` for this guard alone.
   */
  backend?: CircuitBackend
  /**
   * How an error counts: 'failure', 'success' (the provider answered, e.g. 400/401) or 'ignore'.
   * Default: `classifyError(error).health`. Whatever it says, an error while the caller's signal is
   * aborted is ignored (unless a breakwater total timeout aborted it: the provider did not answer
   * in time, a failure), a call that returns is a success, and a classifier that throws or answers
   * something else counts a failure.
   */
  classify?: (error: unknown) => Health
  /**
   * A rate-limited or overloaded error (429, 529, overloaded_error) carrying a Retry-After opens the
   * service for that long (capped at `maxRecoveryMs`) through `backend.cooldown`, without counting
   * a failure: with a shared backend, one process learns it for the fleet. Default true.
   */
  honorRetryAfter?: boolean
  /** Source of time for durations, lease renewal and the default backend. Default `systemClock`. */
  clock?: Clock
  /** Source of randomness in [0, 1) for the default backend's backoff jitter. Default `Math.random`. */
  random?: () => number
}

/** A call was refused without running. */
export interface CircuitRejectEvent {
  readonly service: string
  /** 'open', or 'half-open' when another caller holds the probe. */
  readonly state: CircuitState
  /** Time until the breaker admits a probe; 0 while another caller probes; Infinity while isolated. */
  readonly retryAfterMs: number
  /** Why: an outage (`'open'`), a taken probe, an isolation, or a provider's cooldown. */
  readonly reason: BrokenCircuitReason
}

/** A call that ran has ended (for a held call: when its hold settled). */
export interface CircuitOutcomeEvent {
  readonly service: string
  /** How the breaker counted it. */
  readonly outcome: Health
  /**
   * From admission to the end of the call, hold included, on the guard's clock. Measured only
   * while someone listens: 0 for calls that started before the first listener subscribed.
   */
  readonly durationMs: number
  /** The error, when the call failed (also for 'ignore' and 'success' verdicts on an error). */
  readonly error?: unknown
}
