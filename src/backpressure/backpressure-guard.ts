import { abortReason, noop, onAbort } from '../core/abort.js'
import { setTimer, systemClock, type Clock } from '../core/clock.js'
import { serviceOf, type Straggler, whenWorkEnds, type ExecutionContext } from '../core/context.js'
import { BackpressureShedError, type ShedReason } from '../core/errors/backpressure-shed-error.js'
import { EventEmitter } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import {
  MAX_TIMER_MS,
  invalidOption,
  optionalNumber,
  optionalOneOf,
  optionalString,
  requireNumber,
  requireOptions,
  optionalClock,
} from '../core/validate.js'
import type { BackpressureOptions, ShedEvent, SoftAction, SoftLimitEvent } from './backpressure-options.js'
import { WaitQueue } from '../core/wait-queue.js'
import type { Waiting } from './waiting.js'

const OWNER = 'backpressureGuard'
const SOFT_ACTIONS: readonly SoftAction[] = ['warn', 'shed-background']
const WHOLE = { integer: true, min: 1 }

/**
 * Bounds the calls in flight (and their total cost), queues a bounded number by priority, and
 * sheds the rest with `BackpressureShedError` before the process falls over. A slot is held until
 * the call really ends: success, failure, abort, or the settling of a hold (a stream).
 */
export class BackpressureGuard extends GuardBase {
  readonly name = 'backpressure'
  readonly hardLimit: number
  readonly softLimit: number | undefined
  readonly costLimit: number | undefined
  readonly maxQueue: number
  readonly queueTimeoutMs: number | undefined
  readonly softAction: SoftAction
  private readonly clock: Clock
  private readonly service: string | undefined
  private readonly shedBackground: boolean
  private readonly queue = new WaitQueue<Waiting>()
  private inflight = 0
  private cost = 0
  private readonly softEmitter = new EventEmitter<SoftLimitEvent>()
  private readonly shedEmitter = new EventEmitter<ShedEvent>()
  /** Fires for each call admitted while the depth is at or above the soft limit. */
  readonly onSoftLimit = this.softEmitter.addListener
  /** Fires for each call shed, with the reason. */
  readonly onShed = this.shedEmitter.addListener

  constructor(options: BackpressureOptions) {
    super()
    const o = requireOptions<BackpressureOptions>(OWNER, options)
    this.hardLimit = requireNumber(OWNER, 'hardLimit', o.hardLimit, WHOLE)
    this.softLimit = optionalNumber(OWNER, 'softLimit', o.softLimit, undefined, WHOLE)
    if (this.softLimit !== undefined && this.softLimit >= this.hardLimit) {
      invalidOption(OWNER, 'softLimit', `< hardLimit (${this.hardLimit})`, this.softLimit)
    }
    this.costLimit = optionalNumber(OWNER, 'costLimit', o.costLimit, undefined, { above: 0 })
    this.maxQueue = optionalNumber(OWNER, 'maxQueue', o.maxQueue, 0, { integer: true, min: 0 })
    this.queueTimeoutMs = optionalNumber(OWNER, 'queueTimeoutMs', o.queueTimeoutMs, undefined, {
      above: 0,
      max: MAX_TIMER_MS,
    })
    this.softAction = optionalOneOf(OWNER, 'softAction', o.softAction, SOFT_ACTIONS, 'warn')
    // Without a soft limit there is nothing to shed at: presets set the action once, whatever the limits.
    this.shedBackground = this.softAction === 'shed-background' && this.softLimit !== undefined
    optionalClock(OWNER, o.clock)
    this.clock = o.clock ?? systemClock
    this.service = optionalString(OWNER, 'service', o.service)
  }

  /** Calls in flight (the `backpressure_inflight` gauge). Never negative, never above `hardLimit`. */
  get depth(): number {
    return this.inflight
  }

  /** Calls waiting for a slot (the `backpressure_queue_depth` gauge). */
  get queued(): number {
    return this.queue.length
  }

  /** Total cost of the calls in flight. */
  get inflightCost(): number {
    return this.cost
  }

  /** `depth / softLimit`: 1 means at the soft limit. 0 without a soft limit. */
  get softDepthRatio(): number {
    return this.softLimit === undefined ? 0 : this.inflight / this.softLimit
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    const cost = ctx.cost
    if (this.costLimit !== undefined && cost > this.costLimit) {
      return Promise.reject(this.shed(ctx, 'too_large', this.costLimit))
    }
    if (this.shedBackground && ctx.priority === 'background' && this.inflight >= this.softLimit!) {
      return Promise.reject(this.shed(ctx, 'soft_limit', this.softLimit!))
    }
    // Admitted at once only when nobody of the same or a higher class is waiting (no overtaking).
    if (this.fits(cost) && this.queue.ahead(ctx.priority) === 0) {
      this.take(ctx, cost)
      return this.admitted(next, ctx, cost)
    }
    if (this.queue.length < this.maxQueue) return this.enqueue(next, ctx, cost)
    if (this.maxQueue > 0) return Promise.reject(this.shed(ctx, 'queue_full', this.maxQueue))
    const capacity = this.inflight >= this.hardLimit ? this.hardLimit : this.costLimit!
    return Promise.reject(this.shed(ctx, 'hard_limit', capacity))
  }

  /**
   * Runs an admitted call; its slot is released when the work has really ended: the call, any hold,
   * and any `fn` a layer inside answered early for (an attempt timeout, a caller's abort). Written
   * with `then` rather than `async`: one promise per call on the hot path instead of three.
   */
  private admitted(next: Next, ctx: ExecutionContext, cost: number): Promise<unknown> {
    const mark = ctx.stragglers
    let running: Promise<unknown>
    try {
      running = next(ctx)
    } catch (error) {
      this.releaseAfter(ctx, mark, undefined, cost)
      return Promise.reject(error)
    }
    return running.then(
      (value) => {
        this.releaseAfter(ctx, mark, ctx.takeHeld(), cost)
        return value
      },
      (error: unknown) => {
        this.releaseAfter(ctx, mark, undefined, cost)
        throw error
      },
    )
  }

  /** Releases the slot now, or once the hold and the work left running inside have ended. */
  private releaseAfter(
    ctx: ExecutionContext,
    mark: Straggler | undefined,
    held: Promise<unknown> | undefined,
    cost: number,
  ): void {
    if (held === undefined && ctx.stragglers === mark) this.release(cost)
    else whenWorkEnds(ctx, mark, held, () => this.release(cost))
  }

  private enqueue(next: Next, ctx: ExecutionContext, cost: number): Promise<unknown> {
    const signal = ctx.signal
    if (signal.aborted) return Promise.reject(abortReason(signal))
    const waited = new Promise<void>((resolve, reject) => {
      let unlisten = noop
      let cancelTimer = noop
      const entry: Waiting = {
        ctx,
        cost,
        priority: ctx.priority,
        admit: () => {
          unlisten()
          cancelTimer()
          resolve()
        },
        prev: undefined,
        next: undefined,
      }
      const leave = (error: unknown): void => {
        if (!this.queue.remove(entry)) return
        unlisten()
        cancelTimer()
        reject(error)
        // The call that left may have been the head others were waiting behind.
        this.drain()
      }
      this.queue.push(entry)
      unlisten = onAbort(signal, () => leave(abortReason(signal)))
      const timeoutMs = this.queueTimeoutMs
      if (timeoutMs !== undefined) {
        // Cancelled on admission, so when it fires the call is still waiting.
        cancelTimer = setTimer(this.clock, timeoutMs, () =>
          leave(this.shed(ctx, 'queue_timeout', this.hardLimit)),
        )
      }
    })
    return waited.then(() => this.admitted(next, ctx, cost))
  }

  private fits(cost: number): boolean {
    return (
      this.inflight < this.hardLimit && (this.costLimit === undefined || this.cost + cost <= this.costLimit)
    )
  }

  /** Takes a slot for a call, reporting it when the soft limit is reached. */
  private take(ctx: ExecutionContext, cost: number): void {
    const soft = this.softLimit
    if (soft !== undefined && this.inflight >= soft && this.softEmitter.size > 0) {
      this.softEmitter.emit({
        depth: this.inflight,
        softLimit: soft,
        priority: ctx.priority,
        service: serviceOf(ctx, this.service),
      })
    }
    this.inflight++
    this.cost += cost
  }

  private release(cost: number): void {
    this.inflight--
    // Summing and subtracting fractional costs drifts; an idle guard is exactly empty.
    this.cost = this.inflight === 0 ? 0 : this.cost - cost
    if (this.queue.length > 0) this.drain()
  }

  /** Admits waiting calls, in order, while the one at the head fits. */
  private drain(): void {
    for (let head = this.queue.peek(); head !== undefined && this.fits(head.cost); head = this.queue.peek()) {
      this.queue.remove(head)
      this.take(head.ctx, head.cost)
      head.admit()
    }
  }

  private shed(ctx: ExecutionContext, reason: ShedReason, capacity: number): BackpressureShedError {
    const depth = this.inflight
    if (this.shedEmitter.size > 0) {
      this.shedEmitter.emit({
        reason,
        priority: ctx.priority,
        depth,
        capacity,
        service: serviceOf(ctx, this.service),
      })
    }
    return new BackpressureShedError({ depth, capacity, reason })
  }
}

/** Creates a backpressure guard. */
export function backpressureGuard(options: BackpressureOptions): BackpressureGuard {
  return new BackpressureGuard(options)
}
