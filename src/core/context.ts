import { isAbortSignal, NEVER_ABORTED, noop } from './abort.js'
import type { AnswerSubscription } from './answer-channel.js'
import type { CallContext, CallOptions, Priority } from './call-options.js'
import type { Clock } from './clock.js'
import { show } from './validate.js'

const OWNER = 'execute'

/**
 * The one mutable context threaded through every layer of a composed guard. Layers that derive a
 * signal (timeouts, dedupe) swap `signal` for the inner call and restore it after.
 */
export class ExecutionContext implements CallContext {
  signal: AbortSignal
  service: string
  /** True when the caller named the service, so it wins over a guard's own `service` option. */
  readonly serviceFromCall: boolean
  key: string | undefined
  cost: number
  priority: Priority
  attempt = 1
  /** What the current attempt is holding the call open for, if anything. */
  held: Promise<unknown> | undefined = undefined
  /** Deadline of a total timeout, so retry can give up instead of sleeping past it. */
  deadline: { clock: Clock; at: number } | undefined = undefined
  /**
   * The signal a total timeout put in place. Its abort is the chain's own verdict on the provider
   * (a breaker failure); any other abort is the caller's (ignored).
   */
  totalSignal: AbortSignal | undefined = undefined
  /** True once the total timeout itself ran out (not merely the caller's abort passing through it). */
  totalExpired = false
  /** Set by an idle timeout while it watches a held call. */
  toucher: (() => void) | undefined = undefined
  /** True from the start of `fn` until a layer takes the hold (or `fn` returned a plain value). */
  holdable = false
  /**
   * How many times `fn` was called in this call. A layer compares it before and after `next()` to
   * learn whether the work reached `fn` (a rate limit refunds a call that was shed or refused first).
   */
  fnStarts = 0
  /**
   * Work that goes on after a layer answered early (an attempt timeout or a caller's abort won the
   * race against `fn`), newest first. Layers that account for resources (a backpressure slot, a
   * probe lease) release them only once this work has ended too: see `whenWorkEnds`.
   */
  stragglers: Straggler | undefined = undefined
  /**
   * The layers listening to what the upstream answers this call (see answer-channel.ts), newest
   * first. A derived context starts with none: its answers are its own.
   */
  answerListeners: AnswerSubscription | undefined = undefined
  readonly fn: (ctx: CallContext) => unknown
  private cleanups: (() => void)[] | undefined = undefined

  constructor(fn: (ctx: CallContext) => unknown, call: CallOptions | undefined) {
    this.fn = fn
    if (call === undefined) {
      this.signal = NEVER_ABORTED
      this.service = 'default'
      this.serviceFromCall = false
      this.key = undefined
      this.cost = 1
      this.priority = 'foreground'
      return
    }
    if (typeof call !== 'object' || call === null) {
      throw new TypeError(`${OWNER}: call options must be an object or undefined, got ${show(call)}`)
    }
    const { signal, service, key, cost, priority } = call
    if (signal !== undefined && !isAbortSignal(signal)) {
      throw new TypeError(`${OWNER}: call option "signal" must be an AbortSignal, got ${typeof signal}`)
    }
    if (service !== undefined && (typeof service !== 'string' || service === '')) {
      throw new TypeError(
        `${OWNER}: call option "service" must be a non-empty string, got ${String(service)}`,
      )
    }
    if (key !== undefined && typeof key !== 'string') {
      throw new TypeError(`${OWNER}: call option "key" must be a string, got ${typeof key}`)
    }
    if (cost !== undefined && typeof cost !== 'number') {
      throw new TypeError(
        `${OWNER}: call option "cost" must be a finite number >= 0, got a ${typeof cost} ${show(cost)}`,
      )
    }
    if (cost !== undefined && (!Number.isFinite(cost) || cost < 0)) {
      throw new RangeError(`${OWNER}: call option "cost" must be a finite number >= 0, got ${String(cost)}`)
    }
    if (priority !== undefined && priority !== 'foreground' && priority !== 'background') {
      throw new RangeError(
        `${OWNER}: call option "priority" must be "foreground" or "background", got ${String(priority)}`,
      )
    }
    this.signal = signal ?? NEVER_ABORTED
    this.service = service ?? 'default'
    this.serviceFromCall = service !== undefined
    this.key = key
    this.cost = cost ?? 1
    this.priority = priority ?? 'foreground'
  }

  /**
   * A fresh context running `from`'s function with `from`'s call options (signal, service, key,
   * cost, priority) and deadline, without validating them again: they were validated when `from`
   * was built. Per-attempt state (attempt, held, timers, cleanups) starts anew. For a layer that
   * runs the call on a context of its own (dedupe's shared upstream call); it then sets the fields
   * it changes.
   */
  static derive(from: ExecutionContext): ExecutionContext {
    // The constructor's no-options path validates nothing; going through it keeps every context
    // the same shape, so the layers' property reads stay monomorphic.
    const ctx = new ExecutionContext(from.fn, undefined)
    ctx.signal = from.signal
    ctx.service = from.service
    ;(ctx as { serviceFromCall: boolean }).serviceFromCall = from.serviceFromCall
    ctx.key = from.key
    ctx.cost = from.cost
    ctx.priority = from.priority
    ctx.deadline = from.deadline
    return ctx
  }

  hold(settled: Promise<unknown>): void {
    if (!this.holdable) throw new TypeError('ctx.hold() must be called while fn runs, before it returns')
    if (typeof (settled as Promise<unknown> | undefined)?.then !== 'function') {
      throw new TypeError('ctx.hold() expects a promise')
    }
    // Observed here so a rejection that only guards care about is never reported as unhandled.
    const observed = Promise.resolve(settled)
    observed.catch(noop)
    this.held = this.held === undefined ? observed : bothSettled(this.held, observed)
  }

  touch(): void {
    this.toucher?.()
  }

  /** Records that `work` goes on although a layer has answered: outer accounting waits for it. */
  abandon(work: Promise<unknown>): void {
    work.catch(noop)
    this.stragglers = { work, earlier: this.stragglers }
  }

  /**
   * What the attempt that just returned is holding, if anything. Layers read holds through this
   * right after `next()` resolves; it also closes the window in which `hold()` is accepted.
   */
  takeHeld(): Promise<unknown> | undefined {
    this.holdable = false
    return this.held
  }

  /** Registers work to run once the whole call (including any hold) has ended. */
  defer(cleanup: () => void): void {
    ;(this.cleanups ??= []).push(cleanup)
  }

  /**
   * Runs deferred cleanups once the call and its hold have ended. A failed call holds nothing, even
   * if its `fn` called `hold()` before failing.
   */
  finish(failed: boolean): void {
    const cleanups = this.cleanups
    if (cleanups === undefined) return
    this.cleanups = undefined
    const run = (): void => {
      for (const cleanup of cleanups) cleanup()
    }
    if (failed || this.held === undefined) run()
    else this.held.then(run, run)
  }

  get hasCleanups(): boolean {
    return this.cleanups !== undefined
  }
}

/** One piece of work still running after its layer answered (see `ExecutionContext.stragglers`). */
export interface Straggler {
  readonly work: Promise<unknown>
  readonly earlier: Straggler | undefined
}

/**
 * Calls `done` once the work a layer started has really ended: `held` (a stream's hold, if any)
 * and every straggler recorded since `mark` (what `ctx.stragglers` was when the layer began).
 * Synchronous when there is nothing to wait for: the common case costs one comparison.
 */
export function whenWorkEnds(
  ctx: ExecutionContext,
  mark: Straggler | undefined,
  held: Promise<unknown> | undefined,
  done: () => void,
): void {
  let s = ctx.stragglers
  if (s === mark) {
    if (held === undefined) done()
    else held.then(done, done)
    return
  }
  const pending: Promise<unknown>[] = held === undefined ? [] : [held]
  for (; s !== mark && s !== undefined; s = s.earlier) pending.push(s.work)
  void Promise.allSettled(pending).then(done)
}

/** Settles when both settle; rejects with the first rejection. */
function bothSettled(a: Promise<unknown>, b: Promise<unknown>): Promise<unknown> {
  const combined = Promise.allSettled([a, b]).then(([ra, rb]) => {
    if (ra.status === 'rejected') throw ra.reason
    if (rb.status === 'rejected') throw rb.reason
  })
  combined.catch(noop)
  return combined
}

/**
 * The innermost step of every chain: calls the user's function, accepting holds while it runs.
 * An async `fn`'s promise is passed on as is (no wrapper per call); the first layer that takes the
 * hold (`takeHeld()`) closes the window.
 */
export function callFn(ctx: ExecutionContext): Promise<unknown> {
  ctx.fnStarts++
  ctx.holdable = true
  let result: unknown
  try {
    result = ctx.fn(ctx)
  } catch (error) {
    ctx.holdable = false
    ctx.held = undefined
    return Promise.reject(error)
  }
  if (result instanceof Promise) return result
  ctx.holdable = false
  // Thenables from other libraries are adopted; plain values are wrapped.
  return Promise.resolve(result)
}

/**
 * The service a guard acts for: the call's option, else the guard's own, else 'default'. A guard's
 * own service is also written to the context, so `fn` sees the service its guards act for.
 */
export function serviceOf(ctx: ExecutionContext, own: string | undefined): string {
  if (ctx.serviceFromCall || own === undefined) return ctx.service
  ctx.service = own
  return own
}
