import { abortReason, linkedController, raceAbort } from '../core/abort.js'
import { setTimer, systemClock, type Clock } from '../core/clock.js'
import type { ExecutionContext } from '../core/context.js'
import { isTimeoutError, TimeoutError } from '../core/errors/timeout-error.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import { optionalNumber, requireOptions } from '../core/validate.js'
import type { TimeoutOptions } from './timeout-options.js'

const OWNER = 'timeoutGuard'
const POSITIVE = { above: 0 }

/** Bounds attempts, whole calls and stream stalls. See `TimeoutOptions`. */
export class TimeoutGuard extends GuardBase {
  readonly name = 'timeout'
  readonly attemptMs: number | undefined
  readonly totalMs: number | undefined
  readonly idleMs: number | undefined
  private readonly clock: Clock
  /** Nothing to watch per attempt: pass straight through, allocating nothing. */
  private readonly perAttempt: boolean

  constructor(options: TimeoutOptions) {
    super()
    const o = requireOptions<TimeoutOptions>(OWNER, options)
    this.attemptMs = optionalNumber(OWNER, 'attemptMs', o.attemptMs, undefined, POSITIVE)
    this.totalMs = optionalNumber(OWNER, 'totalMs', o.totalMs, undefined, POSITIVE)
    this.idleMs = optionalNumber(OWNER, 'idleMs', o.idleMs, undefined, POSITIVE)
    if (
      o.clock !== undefined &&
      (typeof o.clock?.now !== 'function' || typeof o.clock?.sleep !== 'function')
    ) {
      throw new TypeError(`${OWNER}: option "clock" must be a Clock (now and sleep), got ${String(o.clock)}`)
    }
    this.clock = o.clock ?? systemClock
    this.perAttempt = this.attemptMs !== undefined || this.totalMs !== undefined || this.idleMs !== undefined
  }

  override get defersCleanup(): boolean {
    return this.totalMs !== undefined
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    if (!this.perAttempt) return next(ctx)
    if (this.totalMs !== undefined && ctx.deadline === undefined) this.startTotal(ctx, this.totalMs)
    return this.attempt(next, ctx)
  }

  /**
   * Starts the whole-call deadline on the call's first pass. It replaces the call's signal for good,
   * so retry sleeps outside this guard are cut short too; the timer ends when the call ends.
   */
  private startTotal(ctx: ExecutionContext, totalMs: number): void {
    const { controller, unlink } = linkedController(ctx.signal)
    const cancel = setTimer(this.clock, totalMs, () => controller.abort(new TimeoutError('total', totalMs)))
    ctx.signal = controller.signal
    ctx.deadline = { clock: this.clock, at: this.clock.now() + totalMs }
    ctx.defer(() => {
      cancel()
      unlink()
    })
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
      value = await raceAbort(next(ctx), controller.signal)
    } catch (error) {
      unlink()
      // The SDK reports our abort as its own AbortError: the caller should see which bound ran out.
      const reason = controller.signal.aborted ? abortReason(controller.signal) : undefined
      throw isTimeoutError(reason) ? reason : error
    } finally {
      cancelAttempt?.()
      ctx.signal = outer
    }
    const held = ctx.takeHeld()
    if (held === undefined) unlink()
    else this.watchHold(ctx, held, controller, unlink)
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
    let cancelIdle: (() => void) | undefined
    if (idleMs !== undefined) {
      const clock = this.clock
      let last = clock.now()
      ctx.toucher = () => {
        last = clock.now()
      }
      // One timer that re-arms for the remaining gap, instead of a new timer per chunk.
      const check = (): void => {
        const quiet = clock.now() - last
        if (quiet >= idleMs) controller.abort(new TimeoutError('idle', idleMs))
        else cancelIdle = setTimer(clock, idleMs - quiet, check)
      }
      cancelIdle = setTimer(clock, idleMs, check)
    }
    const stop = (): void => {
      cancelIdle?.()
      ctx.toucher = undefined
      unlink()
    }
    held.then(stop, stop)
  }
}

/** Creates a timeout guard. With no bound set it passes calls through untouched. */
export function timeoutGuard(options: TimeoutOptions): TimeoutGuard {
  return new TimeoutGuard(options)
}
