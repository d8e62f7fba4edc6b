import { abortReason, noop } from '../core/abort.js'
import { setTimer, systemClock, type Clock } from '../core/clock.js'
import { type ExecutionContext, serviceOf, whenWorkEnds } from '../core/context.js'
import { BrokenCircuitError, type BrokenCircuitReason } from '../core/errors/broken-circuit-error.js'
import { EventEmitter, type Event } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import {
  optionalBoolean,
  optionalFunction,
  optionalRandom,
  optionalString,
  requireOptions,
} from '../core/validate.js'
import { classifyError, type Health } from '../classify/classify-error.js'
import { InMemoryCircuitBackend } from './backends/memory-backend.js'
import { optionalBackend, optionalClock } from './check-shapes.js'
import type {
  Admission,
  CircuitBackend,
  CircuitConfig,
  CircuitState,
  OutcomeReport,
  StateChange,
} from './circuit-backend.js'
import { resolveCircuitConfig } from './circuit-config.js'
import type { CircuitOptions, CircuitOutcomeEvent, CircuitRejectEvent } from './circuit-options.js'

const OWNER = 'circuitGuard'
/** Shared reports for calls that were not probes: recording an outcome allocates nothing. */
const SUCCESS: OutcomeReport = Object.freeze({ outcome: 'success' })
const FAILURE: OutcomeReport = Object.freeze({ outcome: 'failure' })
/** A held probe renews its lease this many times per lease period, so one late renewal is harmless. */
const RENEWALS_PER_LEASE = 3

/** Fails fast while a service's provider is failing, and lets one probe test its recovery. */
export class CircuitGuard extends GuardBase {
  readonly name = 'circuit'
  /** The resolved state-machine settings, as handed to the backend. */
  readonly config: CircuitConfig
  readonly backend: CircuitBackend
  readonly honorRetryAfter: boolean
  private readonly service: string | undefined
  private readonly classify: ((error: unknown) => Health) | undefined
  private readonly clock: Clock
  private readonly rejectEmitter = new EventEmitter<CircuitRejectEvent>()
  private readonly outcomeEmitter = new EventEmitter<CircuitOutcomeEvent>()
  /**
   * Transitions of every service the backend holds (forwarded from `backend.onStateChange`; a
   * backend shared by several guards reports to each of them).
   */
  readonly onStateChange: Event<StateChange>
  /** A call was refused without running (`BrokenCircuitError`). */
  readonly onReject = this.rejectEmitter.addListener
  /** A call that ran has ended, with how the breaker counted it (for calls_total{service,outcome}). */
  readonly onOutcome = this.outcomeEmitter.addListener

  constructor(options: CircuitOptions) {
    super()
    const o = requireOptions<CircuitOptions>(OWNER, options)
    this.config = resolveCircuitConfig(OWNER, o)
    this.service = optionalString(OWNER, 'service', o.service)
    this.classify = optionalFunction<(error: unknown) => Health>(OWNER, 'classify', o.classify)
    this.honorRetryAfter = optionalBoolean(OWNER, 'honorRetryAfter', o.honorRetryAfter, true)
    this.clock = optionalClock(OWNER, o.clock) ?? systemClock
    const random = optionalRandom(OWNER, o.random)
    this.backend =
      optionalBackend(OWNER, o.backend) ?? new InMemoryCircuitBackend({ clock: this.clock, random })
    const backend = this.backend
    this.onStateChange = (listener) => backend.onStateChange(listener)
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    const service = serviceOf(ctx, this.service)
    const admission = this.backend.admit(service, this.config)
    if (typeof (admission as Partial<PromiseLike<Admission>>).then !== 'function') {
      return this.run(next, ctx, service, admission as Admission)
    }
    return (admission as Promise<Admission>).then((a) => {
      if (ctx.signal.aborted) {
        // The caller left while the backend answered: hand a probe straight back.
        if (a.kind === 'probe') this.observe(this.backend.release(service, this.config, a.token))
        throw abortReason(ctx.signal)
      }
      return this.run(next, ctx, service, a)
    })
  }

  /** The breaker's state for `service` (default: this guard's service). */
  async state(service?: string): Promise<CircuitState> {
    return (await this.backend.snapshot(this.serviceName(service), this.config)).state
  }

  /** Consecutive failures counted while closed. */
  async failureCount(service?: string): Promise<number> {
    return (await this.backend.snapshot(this.serviceName(service), this.config)).failures
  }

  /** Forces the breaker open (every call fails fast) until `reset()`. */
  async isolate(service?: string): Promise<void> {
    await this.backend.isolate(this.serviceName(service), this.config)
  }

  /** Forces the breaker closed and forgets its failures and backoff. */
  async reset(service?: string): Promise<void> {
    await this.backend.reset(this.serviceName(service), this.config)
  }

  private run(next: Next, ctx: ExecutionContext, service: string, a: Admission): Promise<unknown> {
    if (a.kind === 'deny') return this.reject(service, a)
    return this.call(next, ctx, service, a.kind === 'probe' ? a.token : undefined)
  }

  /** Runs an admitted call and reports its outcome; `then` rather than `async` keeps the hot path to one promise. */
  private call(
    next: Next,
    ctx: ExecutionContext,
    service: string,
    token: string | undefined,
  ): Promise<unknown> {
    // The signal the caller gave this layer: an abort of it (not of an inner timeout) means "ignore".
    const signal = ctx.signal
    const mark = ctx.stragglers
    const started = this.outcomeEmitter.size > 0 ? this.clock.now() : Number.NaN
    let running: Promise<unknown>
    try {
      running = next(ctx)
    } catch (error) {
      this.finish(service, token, signal, ctx, started, true, error)
      return Promise.reject(error)
    }
    return running.then(
      (value) => {
        const held = ctx.takeHeld()
        if (held === undefined) this.finish(service, token, signal, ctx, started, false, undefined)
        else this.finishWhenReleased(held, service, token, signal, ctx, started)
        return value
      },
      (error: unknown) => {
        // A probe answered early (timeout, abort) keeps its lease while its fn still runs, so a
        // second probe never runs beside it (R8); the lease's expiry still bounds the wait.
        if (token !== undefined && ctx.stragglers !== mark) {
          whenWorkEnds(ctx, mark, undefined, () =>
            this.finish(service, token, signal, ctx, started, true, error),
          )
        } else this.finish(service, token, signal, ctx, started, true, error)
        throw error
      },
    )
  }

  /** A held call (a stream) reports when its hold settles; a probe's lease is renewed meanwhile. */
  private finishWhenReleased(
    held: Promise<unknown>,
    service: string,
    token: string | undefined,
    signal: AbortSignal,
    ctx: ExecutionContext,
    started: number,
  ): void {
    const stopRenewing = token === undefined ? noop : this.renewWhileHeld(service, token)
    held.then(
      () => {
        stopRenewing()
        this.finish(service, token, signal, ctx, started, false, undefined)
      },
      (error: unknown) => {
        stopRenewing()
        this.finish(service, token, signal, ctx, started, true, error)
      },
    )
  }

  /** Reports a finished call to the backend and to listeners. */
  private finish(
    service: string,
    token: string | undefined,
    signal: AbortSignal,
    ctx: ExecutionContext,
    started: number,
    failed: boolean,
    error: unknown,
  ): void {
    const outcome = failed ? this.healthOf(service, callerAborted(signal, ctx), error) : 'success'
    const backend = this.backend
    if (outcome === 'ignore') {
      if (token !== undefined) this.observe(backend.release(service, this.config, token))
    } else {
      const report = token !== undefined ? { outcome, token } : outcome === 'success' ? SUCCESS : FAILURE
      this.observe(backend.record(service, this.config, report))
    }
    if (this.outcomeEmitter.size > 0) {
      const durationMs = Number.isNaN(started) ? 0 : this.clock.now() - started
      this.outcomeEmitter.emit(
        failed ? { service, outcome, durationMs, error } : { service, outcome, durationMs },
      )
    }
  }

  /** How an error counts; a provider's Retry-After on a rate limit or overload also cools the service down. */
  private healthOf(service: string, aborted: boolean, error: unknown): Health {
    // The caller gave up: whatever the error, it says nothing about the provider.
    if (aborted) return 'ignore'
    let health: Health | undefined
    if (this.classify !== undefined) {
      try {
        health = this.classify(error)
      } catch {
        health = 'failure' // a broken classifier must not leak a probe lease or hide an outage
      }
      if (health !== 'failure' && health !== 'success' && health !== 'ignore') health = 'failure'
      if (!this.honorRetryAfter) return health
    }
    const classified = classifyError(error, { now: this.clock.now() })
    const wait = classified.retryAfterMs
    if (
      this.honorRetryAfter &&
      wait !== undefined &&
      wait > 0 &&
      (classified.reason === 'rate_limited' || classified.reason === 'overloaded')
    ) {
      this.observe(this.backend.cooldown(service, this.config, wait))
    }
    return health ?? classified.health
  }

  /** Keeps a held probe's lease alive until the hold settles (a Redis lease would otherwise expire). */
  private renewWhileHeld(service: string, token: string): () => void {
    const every = this.config.probeLeaseMs / RENEWALS_PER_LEASE
    let cancel: () => void
    const renew = (): void => {
      this.observe(this.backend.renew(service, this.config, token))
      cancel = setTimer(this.clock, every, renew)
    }
    cancel = setTimer(this.clock, every, renew)
    return () => cancel()
  }

  private reject(service: string, denial: Denial): Promise<never> {
    const { state, retryAfterMs } = denial
    const reason: BrokenCircuitReason =
      retryAfterMs === Number.POSITIVE_INFINITY
        ? 'isolated'
        : denial.cooldown === true
          ? 'cooldown'
          : state === 'half-open'
            ? 'half-open'
            : 'open'
    if (this.rejectEmitter.size > 0) this.rejectEmitter.emit({ service, state, retryAfterMs, reason })
    return Promise.reject(new BrokenCircuitError(service, retryAfterMs, reason))
  }

  private serviceName(service: string | undefined): string {
    return optionalString(OWNER, 'service', service) ?? this.service ?? 'default'
  }

  /** Backends settle their own failures (D5); a stray rejection must still never go unhandled. */
  private observe(result: void | Promise<void>): void {
    if (result !== undefined) result.then(undefined, noop)
  }
}

/**
 * Did the caller give up? An abort of this layer's signal is the caller's, unless it is the chain's
 * own total timeout running out: then the provider did not answer in time, which is a failure. A
 * caller's signal that happens to carry a TimeoutError is still the caller's.
 */
function callerAborted(signal: AbortSignal, ctx: ExecutionContext): boolean {
  return signal.aborted && !(signal === ctx.totalSignal && ctx.totalExpired)
}

type Denial = Extract<Admission, { kind: 'deny' }>

/** Creates a circuit breaker guard. See `CircuitOptions` and DESIGN §3 C1–C6. */
export function circuitGuard(options: CircuitOptions): CircuitGuard {
  return new CircuitGuard(options)
}
