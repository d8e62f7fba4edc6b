import { systemClock, type Clock } from '../core/clock.js'
import type { ExecutionContext } from '../core/context.js'
import { serviceOf } from '../core/context.js'
import { EventEmitter } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  optionalOneOf,
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
} from './backoff.js'
import { RetryBudget } from './retry-budget.js'
import type { GiveUpCause, GiveUpEvent, RetryEvent, RetryOptions } from './retry-options.js'

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
  /** Fires before each retry sleep. */
  readonly onRetry = this.retryEmitter.addListener
  /** Fires when the guard lets an error through (or returns a rejected result after the last attempt). */
  readonly onGiveUp = this.giveUpEmitter.addListener
  /** Fires each time the shared retry budget refuses a retry. */
  readonly onBudgetExhausted = this.budgetEmitter.addListener

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
    this.random = optionalFunction<() => number>(OWNER, 'random', o.random) ?? Math.random
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
   * guard gives up.
   */
  private async retrying(
    next: Next,
    ctx: ExecutionContext,
    failed: boolean,
    outcome: unknown,
  ): Promise<unknown> {
    for (let attempt = ctx.attempt; ; attempt++) {
      // The caller gave up: no further attempt, and the caller sees its own reason.
      if (failed && ctx.signal.aborted) throw ctx.signal.reason ?? outcome
      const classified = failed ? classifyError(outcome, { now: this.clock.now() }) : undefined
      const reason = classified?.reason ?? 'result'
      const error = failed ? outcome : undefined
      let stop: GiveUpCause | undefined
      let delayMs = 0
      if (failed && !(this.retryOn ? this.retryOn(outcome) : classified!.retryable)) stop = 'not_retryable'
      else if (attempt >= this.maxAttempts) stop = 'max_attempts'
      else {
        const planned = this.delayFor(ctx, classified)
        if (typeof planned === 'string') stop = planned
        else delayMs = planned
      }
      const service = serviceOf(ctx, this.service)
      if (stop !== undefined) {
        this.giveUpEmitter.emit({ attempt, error, service, reason, stoppedBy: stop })
        if (failed) throw outcome
        return outcome
      }
      this.retryEmitter.emit({ attempt, delayMs, error, service, reason })
      if (delayMs > 0) await this.clock.sleep(delayMs, ctx.signal)
      else if (ctx.signal.aborted) throw ctx.signal.reason
      ctx.attempt = attempt + 1
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
    let delay: number
    const asked = this.honorRetryAfter ? classified?.retryAfterMs : undefined
    if (asked !== undefined) {
      // The provider's wait is used as is (jitter never shortens it), or not at all.
      if (asked > this.maxDelayMs) return 'retry_after_too_long'
      delay = asked
    } else {
      delay = applyJitter(
        cappedDelay(ctx.attempt, this.baseDelayMs, this.maxDelayMs),
        this.jitter,
        this.random,
      )
    }
    const deadline = ctx.deadline
    if (deadline !== undefined && delay >= deadline.at - deadline.clock.now()) return 'deadline'
    if (this.budget !== undefined && !this.budget.tryAcquire()) {
      this.budgetEmitter.emit({ service: serviceOf(ctx, this.service) })
      return 'budget_exhausted'
    }
    return delay
  }
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
