import { linkedController, noop, raceAbort } from '../core/abort.js'
import { setTimer, systemClock, type Clock } from '../core/clock.js'
import type { ExecutionContext } from '../core/context.js'
import { surfaceTimeout, TimeoutError } from '../core/errors/timeout-error.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import { MAX_TIMER_MS, optionalNumber, requireOptions, optionalClock } from '../core/validate.js'
import type { TimeoutOptions } from './timeout-options.js'

const OWNER = 'timeoutGuard'
const DURATION = { above: 0, max: MAX_TIMER_MS }

/** Bounds attempts, whole calls and stream stalls. See `TimeoutOptions`. */
export class TimeoutGuard extends GuardBase {
  readonly name = 'timeout'
  readonly attemptMs: number | undefined
  readonly totalMs: number | undefined
  readonly idleMs: number | undefined
  private readonly clock: Clock
  /** Something to watch per attempt (an attempt bound or an idle bound) needs its own controller. */
  private readonly ownController: boolean

  constructor(options: TimeoutOptions) {
    super()
    const o = requireOptions<TimeoutOptions>(OWNER, options)
    this.attemptMs = optionalNumber(OWNER, 'attemptMs', o.attemptMs, undefined, DURATION)
    this.totalMs = optionalNumber(OWNER, 'totalMs', o.totalMs, undefined, DURATION)
    this.idleMs = optionalNumber(OWNER, 'idleMs', o.idleMs, undefined, DURATION)
    optionalClock(OWNER, o.clock)
    this.clock = o.clock ?? systemClock
    this.ownController = this.attemptMs !== undefined || this.idleMs !== undefined
  }

  override get defersCleanup(): boolean {
    return this.totalMs !== undefined
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    if (this.totalMs !== undefined) this.beginTotal(ctx)
    if (this.ownController) return this.attempt(next, ctx)
    // Only a total bound (or none): the call's signal already carries it; race it so an fn that
    // ignores its signal still ends on time. No bound at all: straight through.
    return this.totalMs === undefined ? next(ctx) : this.raceTotal(next, ctx)
  }

  /**
   * Starts the whole-call deadline. `compose()` calls this when the call enters the chain, so time
   * spent queued before the first attempt counts; a lone guard starts it on the call's first pass.
   * It replaces the call's signal for good, so retry sleeps are cut short too; the timer ends when
   * the call ends. Nested bounds: the tightest deadline wins — a bound that would end no earlier
   * than the one in place (its own, on a retry's next pass) adds nothing.
   */
  beginTotal(ctx: ExecutionContext): void {
    const totalMs = this.totalMs
    if (totalMs === undefined) return
    const clock = this.clock
    const at = clock.now() + totalMs
    const current = ctx.deadline
    if (current !== undefined && current.at - current.clock.now() <= totalMs) return
    const { controller, unlink } = linkedController(ctx.signal)
    const cancel = setTimer(clock, totalMs, () => {
      if (!controller.signal.aborted) ctx.totalExpired = true
      controller.abort(new TimeoutError('total', totalMs))
    })
    ctx.signal = controller.signal
    ctx.totalSignal = controller.signal
    ctx.deadline = { clock, at }
    ctx.defer(() => {
      cancel()
      unlink()
    })
  }

  private async raceTotal(next: Next, ctx: ExecutionContext): Promise<unknown> {
    ctx.held = undefined
    const value = await raceAbort(next(ctx), ctx.signal, ctx)
    const held = ctx.takeHeld()
    if (held !== undefined) ctx.held = surfaceTimeouts(held, ctx.signal)
    return value
  }

  private async attempt(next: Next, ctx: ExecutionContext): Promise<unknown> {
    const outer = ctx.signal
    const { controller, unlink } = linkedController(outer)
    const attemptMs = this.attemptMs
    const cancelAttempt =
      attemptMs === undefined
        ? undefined
        : setTimer(this.clock, attemptMs, () => controller.abort(new TimeoutError('attempt', attemptMs)))
    ctx.signal = controller.signal
    ctx.held = undefined
    let value: unknown
    try {
      value = await raceAbort(next(ctx), controller.signal, ctx)
    } catch (error) {
      unlink()
      // The SDK reports our abort as its own AbortError: the caller should see which bound ran out.
      throw surfaceTimeout(error, controller.signal)
    } finally {
      cancelAttempt?.()
      ctx.signal = outer
    }
    const held = ctx.takeHeld()
    if (held === undefined) unlink()
    else {
      this.watchHold(ctx, held, controller, unlink)
      ctx.held = surfaceTimeouts(held, controller.signal)
    }
    return value
  }

  /** While a call is held, caller aborts and the total deadline still reach it; the idle timer runs. */
  private watchHold(
    ctx: ExecutionContext,
    held: Promise<unknown>,
    controller: AbortController,
    unlink: () => void,
  ): void {
    const idleMs = this.idleMs
    let cancelIdle = noop
    const previousToucher = ctx.toucher
    if (idleMs !== undefined) {
      const clock = this.clock
      let last = clock.now()
      // Chained, so an idle bound further out still hears every chunk.
      ctx.toucher = () => {
        last = clock.now()
        previousToucher?.()
      }
      // One timer that re-arms for the remaining gap, instead of a new timer per chunk.
      const check = (): void => {
        const quiet = clock.now() - last
        if (quiet >= idleMs) controller.abort(new TimeoutError('idle', idleMs))
        // Whole milliseconds: a fractional remainder smaller than the clock's resolution would
        // re-arm at the same instant forever.
        else cancelIdle = setTimer(clock, Math.ceil(idleMs - quiet), check)
      }
      cancelIdle = setTimer(clock, idleMs, check)
    }
    const stop = (): void => {
      cancelIdle()
      ctx.toucher = previousToucher
      unlink()
    }
    held.then(stop, stop)
  }
}

/** A held call that ends because our bound aborted it fails with that bound's TimeoutError. */
function surfaceTimeouts(held: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  const mapped = held.then(undefined, (error: unknown) => {
    throw surfaceTimeout(error, signal)
  })
  mapped.catch(noop)
  return mapped
}

/** Creates a timeout guard. With no bound set it passes calls through untouched. */
export function timeoutGuard(options: TimeoutOptions): TimeoutGuard {
  return new TimeoutGuard(options)
}
