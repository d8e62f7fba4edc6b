import { systemClock, type Clock } from '../core/clock.js'
import type { ExecutionContext } from '../core/context.js'
import { serviceOf } from '../core/context.js'
import { isBrokenCircuitError } from '../core/errors/broken-circuit-error.js'
import { EventEmitter } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalOneOf,
  optionalRandom,
  optionalString,
  requireNumber,
  requireOptions,
  optionalClock,
} from '../core/validate.js'
import { classifyError, type ErrorClass } from '../classify/classify-error.js'
import {
  applyJitter,
  cappedDelay,
  DEFAULT_BASE_DELAY_MS,
  type Jitter,
  MAX_RETRY_DELAY_MS,
  RETRY_AFTER_SPREAD_MAX_MS,
  RETRY_AFTER_SPREAD_RATIO,
} from './backoff.js'
import { RetryBudget } from './retry-budget.js'
import type {
  CooldownWaitEvent,
  GiveUpCause,
  GiveUpEvent,
  RetryEvent,
  RetryOptions,
} from './retry-options.js'

const OWNER = 'retryGuard'
const JITTERS: readonly Jitter[] = ['full', 'equal', 'none']

/** Retries failed attempts with capped exponential backoff, Retry-After and a budget. */
export class RetryGuard extends GuardBase {
  readonly name = 'retry'
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly jitter: Jitter
  readonly honorRetryAfter: boolean
  readonly budget: RetryBudget | undefined
  private readonly retryOn: ((error: unknown) => boolean) | undefined
  private readonly retryOnResult: ((value: unknown) => boolean) | undefined
  private readonly clock: Clock
  private readonly random: () => number
  private readonly service: string | undefined
  private readonly retryEmitter = new EventEmitter<RetryEvent>()
  private readonly giveUpEmitter = new EventEmitter<GiveUpEvent>()
  private readonly budgetEmitter = new EventEmitter<{ service: string }>()
  private readonly cooldownEmitter = new EventEmitter<CooldownWaitEvent>()
  /** Fires before each retry sleep. */
  readonly onRetry = this.retryEmitter.addListener
  /** Fires when the guard lets an error through (or returns a rejected result after the last attempt). */
  readonly onGiveUp = this.giveUpEmitter.addListener
  /** Fires each time the shared retry budget refuses a retry. */
  readonly onBudgetExhausted = this.budgetEmitter.addListener
  /**
   * Fires before the guard waits out a breaker's cooldown (the provider asked every caller to wait):
   * that wait spends no attempt and no retry budget, since nothing reached the provider.
   */
  readonly onCooldownWait = this.cooldownEmitter.addListener

  constructor(options: RetryOptions) {
    super()
    const o = requireOptions<RetryOptions>(OWNER, options)
    this.maxAttempts = requireNumber(OWNER, 'maxAttempts', o.maxAttempts, { integer: true, min: 1 })
    this.baseDelayMs = optionalNumber(OWNER, 'baseDelayMs', o.baseDelayMs, DEFAULT_BASE_DELAY_MS, { min: 0 })
    this.maxDelayMs = optionalNumber(OWNER, 'maxDelayMs', o.maxDelayMs, MAX_RETRY_DELAY_MS, {
      min: 0,
      max: MAX_RETRY_DELAY_MS,
    })
    this.jitter = optionalOneOf(OWNER, 'jitter', o.jitter, JITTERS, 'full')
    this.retryOn = optionalFunction(OWNER, 'retryOn', o.retryOn)
    this.retryOnResult = optionalFunction(OWNER, 'retryOnResult', o.retryOnResult)
    this.honorRetryAfter = optionalBoolean(OWNER, 'honorRetryAfter', o.honorRetryAfter, true)
    if (o.budget !== undefined && !(o.budget instanceof RetryBudget)) {
      throw new TypeError(`${OWNER}: option "budget" must come from retryBudget(), got ${String(o.budget)}`)
    }
    this.budget = o.budget
    optionalClock(OWNER, o.clock)
    this.clock = o.clock ?? systemClock
    this.random = optionalRandom(OWNER, o.random) ?? Math.random
    this.service = optionalString(OWNER, 'service', o.service)
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    this.budget?.recordCall()
    ctx.attempt = 1
    ctx.held = undefined
    // The first attempt is the hot path: no async frame, no loop, until something goes wrong.
    const first = attemptOnce(next, ctx)
    const onError = (error: unknown): Promise<unknown> => this.retrying(next, ctx, true, error)
    const judge = this.retryOnResult
    if (judge === undefined) return first.then(undefined, onError)
    // A held result (a stream) is already in the caller's hands: it is never judged and discarded.
    return first.then(
      (value) => (ctx.held === undefined && judge(value) ? this.retrying(next, ctx, false, value) : value),
      onError,
    )
  }

  /**
   * The slow path: decides on the attempt that just ended (`failed` with an error, or a result
   * `retryOnResult` rejected), then sleeps and runs further attempts until one is accepted or the
   * guard gives up. An attempt refused by a breaker's cooldown never reached the provider: when the
   * wait fits, it is waited out and the same attempt runs again (R7).
   */
  private async retrying(
    next: Next,
    ctx: ExecutionContext,
    failed: boolean,
    outcome: unknown,
  ): Promise<unknown> {
    let cooldownWaitedMs = 0
    for (;;) {
      const attempt = ctx.attempt
      // The caller gave up: no further attempt, and the caller sees its own reason.
      if (failed && ctx.signal.aborted) throw ctx.signal.reason ?? outcome
      const service = serviceOf(ctx, this.service)
      const cooldownMs = failed ? cooldownOf(outcome) : undefined
      let stop: GiveUpCause | undefined
      let delayMs = 0
      let reason: string
      if (cooldownMs !== undefined) {
        reason = 'cooldown'
        // All the cooldowns one call waits out add up to at most the longest single wait allowed.
        const planned =
          cooldownWaitedMs + cooldownMs <= this.maxDelayMs
            ? this.waitFor(ctx, cooldownMs)
            : 'retry_after_too_long'
        if (typeof planned === 'string') stop = planned
        else {
          delayMs = planned
          cooldownWaitedMs += delayMs
          this.cooldownEmitter.emit({ attempt, delayMs, service })
        }
      } else {
        const classified = failed ? classifyError(outcome, { now: this.clock.now() }) : undefined
        reason = classified?.reason ?? 'result'
        if (failed && !(this.retryOn ? this.retryOn(outcome) : classified!.retryable)) stop = 'not_retryable'
        else if (attempt >= this.maxAttempts) stop = 'max_attempts'
        else {
          const planned = this.delayFor(ctx, classified)
          if (typeof planned === 'string') stop = planned
          else delayMs = planned
        }
        if (stop === undefined) {
          this.retryEmitter.emit({ attempt, delayMs, error: failed ? outcome : undefined, service, reason })
          ctx.attempt = attempt + 1
        }
      }
      if (stop !== undefined) {
        const error = failed ? outcome : undefined
        this.giveUpEmitter.emit({ attempt, error, service, reason, stoppedBy: stop })
        if (failed) throw outcome
        return outcome
      }
      if (delayMs > 0) await this.clock.sleep(delayMs, ctx.signal)
      else if (ctx.signal.aborted) throw ctx.signal.reason
      ctx.held = undefined
      try {
        outcome = await next(ctx)
        failed = false
        if (this.retryOnResult === undefined || ctx.held !== undefined || !this.retryOnResult(outcome)) {
          return outcome
        }
      } catch (caught) {
        failed = true
        outcome = caught
      }
    }
  }

  /** The wait before the next attempt, or why waiting is not allowed. */
  private delayFor(ctx: ExecutionContext, classified: ErrorClass | undefined): number | GiveUpCause {
    const asked = this.honorRetryAfter ? classified?.retryAfterMs : undefined
    const delay =
      asked !== undefined
        ? this.waitFor(ctx, asked)
        : this.withinDeadline(
            ctx,
            applyJitter(
              cappedDelay(ctx.attempt, this.baseDelayMs, this.maxDelayMs),
              this.jitter,
              this.random,
            ),
          )
    if (typeof delay === 'string') return delay
    // A retry the provider scheduled (Retry-After) comes when it said, and its cooldown holds the
    // fleet back until then: the budget bounds only the retries the client chooses by itself.
    if (asked === undefined && this.budget !== undefined && !this.budget.tryAcquire()) {
      this.budgetEmitter.emit({ service: serviceOf(ctx, this.service) })
      return 'budget_exhausted'
    }
    return delay
  }

  /**
   * A wait the provider (or a breaker's cooldown) asked for: never shorter than asked, spread a
   * little later (unless `jitter` is 'none') so the callers told the same time do not all arrive in
   * the same millisecond (R7); or why it cannot be waited (beyond the cap, or past the deadline).
   */
  private waitFor(ctx: ExecutionContext, askedMs: number): number | GiveUpCause {
    if (askedMs > this.maxDelayMs) return 'retry_after_too_long'
    const room = roomLeft(ctx)
    if (askedMs >= room) return 'deadline'
    if (this.jitter === 'none') return askedMs
    const spread = Math.min(askedMs * RETRY_AFTER_SPREAD_RATIO, RETRY_AFTER_SPREAD_MAX_MS) * this.random()
    const delay = Math.min(askedMs + spread, this.maxDelayMs)
    return delay < room ? delay : askedMs
  }

  private withinDeadline(ctx: ExecutionContext, delay: number): number | GiveUpCause {
    return delay >= roomLeft(ctx) ? 'deadline' : delay
  }
}

/** Time left before the call's total deadline; Infinity without one. */
function roomLeft(ctx: ExecutionContext): number {
  const deadline = ctx.deadline
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline.at - deadline.clock.now()
}

/** The wait a breaker's cooldown refusal names (the attempt never reached the provider), if any. */
function cooldownOf(error: unknown): number | undefined {
  return isBrokenCircuitError(error) && error.reason === 'cooldown' ? error.retryAfterMs : undefined
}

/** Runs one attempt; a synchronous throw from a layer becomes a rejection. */
function attemptOnce(next: Next, ctx: ExecutionContext): Promise<unknown> {
  try {
    return next(ctx)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** Creates a retry guard. */
export function retryGuard(options: RetryOptions): RetryGuard {
  return new RetryGuard(options)
}
