import { abortReason, NEVER_ABORTED, noop, onAbort } from '../core/abort.js'
import type { Priority } from '../core/call-options.js'
import { type Clock, setTimer } from '../core/clock.js'
import { RateLimitError, type RateLimitKind } from '../core/errors/rate-limit-error.js'
import { type QueueEntry, WaitQueue } from '../core/wait-queue.js'
import { Lease } from './lease.js'
import type { BudgetReply, RateLimitBudget, RateLimitStore, TakeRequest } from './rate-limit-store.js'

/** A call waiting for budget. */
/** How long a call that waited for budget waited, and for which limit. */
export interface ServedWait {
  readonly waitMs: number
  readonly limit: RateLimitKind
}

interface Waiter extends QueueEntry<Waiter> {
  readonly tokens: number
  /** Local time it started waiting. */
  readonly since: number
  /** Its time ran out while the store was being asked for it: the answer decides. */
  expired: boolean
  queued: boolean
  readonly resolve: (served: ServedWait) => void
  readonly reject: (error: unknown) => void
  unlisten: () => void
  cancelTimer: () => void
}

/** What a pacer needs from its guard. */
export interface PacerSettings {
  readonly store: RateLimitStore
  readonly budget: RateLimitBudget
  readonly clock: Clock
  readonly maxWaitMs: number
  waited(service: string, waitMs: number, priority: Priority, limit: RateLimitKind): void
  limited(service: string, limit: RateLimitKind, retryAfterMs: number, priority: Priority): void
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Partial<Promise<T>>).then === 'function'
}

/**
 * One service's calls in one guard (L1): they go at once while the lease holds budget for them;
 * otherwise they wait — foreground first, FIFO within a class, abortable, holding nothing — while
 * the store is asked once for the first of them (and reserves for those behind it). One timer per
 * service wakes them when reserved budget is ready; each waiter has its own `maxWaitMs` timer.
 */
export class Pacer {
  readonly lease: Lease
  private readonly queue = new WaitQueue<Waiter>()
  private queuedTokens = 0
  /** The call the store is being asked for; only one question is out at a time. */
  private askedFor: Waiter | undefined = undefined
  private asking = false
  private cancelWake: () => void = noop
  /** The budget that made calls wait, for the onWait event. */
  private lastLimit: RateLimitKind = 'requests'
  /** Reused for every question (one is out at a time, and stores read it at once). */
  private readonly request: TakeRequest = {
    need: { requests: 1, tokens: 0 },
    queued: { requests: 0, tokens: 0 },
    give: { requests: 0, tokens: 0 },
    maxDelayMs: 0,
  }

  constructor(
    readonly service: string,
    private readonly s: PacerSettings,
  ) {
    this.lease = new Lease(s.budget.windowMs)
  }

  /** Nothing waits and no question is out: the pacer may be forgotten. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.asking
  }

  /** Calls waiting for budget. */
  get waiting(): number {
    return this.queue.length
  }

  /**
   * Lets a call needing 1 request and `tokens` tokens through: `true` when it may go now (its
   * budget is taken), else a promise that resolves when it may. Throws RateLimitError when the
   * store says it cannot get the budget within `maxWaitMs`.
   */
  admit(priority: Priority, tokens: number, signal: AbortSignal): true | Promise<ServedWait> {
    const now = this.s.clock.now()
    if (this.queue.length === 0 && !this.asking) {
      if (this.lease.readyAt(tokens, now) <= now) {
        this.lease.use(tokens)
        return true
      }
      const reply = this.ask(tokens, 0, 0, this.s.maxWaitMs)
      if (isPromise(reply)) {
        const waiting = this.enqueue(priority, tokens, signal, now)
        this.await(reply, this.queue.peek())
        return waiting
      }
      this.accept(reply, now)
      if (reply.kind !== 'ok') throw this.refusal(reply.waitMs, reply.limit, priority)
      if (this.lease.readyAt(tokens, now) <= now) {
        this.lease.use(tokens)
        return true
      }
    } else if (this.queue.ahead(priority) === 0 && !this.asking && this.lease.readyAt(tokens, now) <= now) {
      this.lease.use(tokens)
      return true
    }
    const waiting = this.enqueue(priority, tokens, signal, now)
    this.pump()
    return waiting
  }

  /** Budget came back (a refund, a settlement below the reservation): waiting calls may use it. */
  changed(): void {
    if (this.queue.length > 0) this.pump()
  }

  /** Serves waiting calls in order while the lease holds budget for the first; asks the store when it does not. */
  private pump(): void {
    if (this.asking) return
    this.cancelWake()
    this.cancelWake = noop
    const now = this.s.clock.now()
    for (let head = this.queue.peek(); head !== undefined; head = this.queue.peek()) {
      const at = this.lease.readyAt(head.tokens, now)
      if (at <= now) {
        this.serve(head, now)
        continue
      }
      if (at !== Number.POSITIVE_INFINITY) {
        this.cancelWake = setTimer(this.s.clock, at - now, () => {
          this.cancelWake = noop
          this.pump()
        })
        return
      }
      const maxDelay = Math.max(0, head.since + this.s.maxWaitMs - now)
      const reply = this.ask(head.tokens, this.queue.length - 1, this.queuedTokens - head.tokens, maxDelay)
      if (isPromise(reply)) {
        this.await(reply, head)
        return
      }
      this.accept(reply, now)
      // A grant always covers the first call; anything else refuses it (and the loop moves on).
      if (reply.kind !== 'ok' || this.lease.readyAt(head.tokens, now) === Number.POSITIVE_INFINITY) {
        this.fail(head, reply.waitMs, reply.limit)
      }
    }
  }

  /** Asks the store for `tokens` (+1 request) and what the queue behind needs, handing back the lease. */
  private ask(
    tokens: number,
    queuedRequests: number,
    queuedTokens: number,
    maxDelayMs: number,
  ): BudgetReply | Promise<BudgetReply> {
    const q = this.request
    q.need.tokens = tokens
    q.queued.requests = queuedRequests
    q.queued.tokens = Math.max(0, queuedTokens)
    this.lease.drainInto(q.give)
    q.maxDelayMs = maxDelayMs
    try {
      return this.s.store.take(this.service, this.s.budget, q)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private await(reply: Promise<BudgetReply>, head: Waiter | undefined): void {
    this.asking = true
    this.askedFor = head
    reply.then(
      (r) => this.answered(r, undefined),
      (error: unknown) => this.answered(undefined, error),
    )
  }

  private answered(reply: BudgetReply | undefined, error: unknown): void {
    this.asking = false
    const head = this.askedFor
    this.askedFor = undefined
    const now = this.s.clock.now()
    if (reply === undefined) {
      // A store that failed (breakwater's own never do): the call it was asked for gets the error.
      if (head?.queued) this.leave(head, error)
    } else {
      this.accept(reply, now)
      const refused = reply.kind !== 'ok' || (head?.expired === true && reply.waitMs > 0)
      if (refused && head?.queued) this.fail(head, reply.waitMs, reply.limit)
    }
    this.pump()
  }

  private accept(reply: BudgetReply, now: number): void {
    if (reply.kind !== 'ok') return
    this.lease.reset(reply, now)
    if (reply.waitMs > 0) this.lastLimit = reply.limit
  }

  private enqueue(priority: Priority, tokens: number, signal: AbortSignal, now: number): Promise<ServedWait> {
    if (signal !== NEVER_ABORTED && signal.aborted) return Promise.reject(abortReason(signal))
    return new Promise<ServedWait>((resolve, reject) => {
      const w: Waiter = {
        priority,
        tokens,
        since: now,
        expired: false,
        queued: true,
        resolve,
        reject,
        unlisten: noop,
        cancelTimer: noop,
        prev: undefined,
        next: undefined,
      }
      this.queue.push(w)
      this.queuedTokens += tokens
      w.unlisten = onAbort(signal, () => {
        this.leave(w, abortReason(signal))
        this.pump()
      })
      w.cancelTimer = setTimer(this.s.clock, this.s.maxWaitMs, () => this.timeUp(w))
    })
  }

  private timeUp(w: Waiter): void {
    w.cancelTimer = noop
    if (w === this.askedFor) {
      w.expired = true
      return
    }
    const estimate = this.lease.readyAt(w.tokens, this.s.clock.now()) - this.s.clock.now()
    this.fail(w, Number.isFinite(estimate) ? estimate : this.s.maxWaitMs, this.lastLimit)
    this.pump()
  }

  private dequeue(w: Waiter): boolean {
    if (!w.queued) return false
    w.queued = false
    this.queue.remove(w)
    this.queuedTokens -= w.tokens
    if (this.queue.length === 0) this.queuedTokens = 0
    w.unlisten()
    w.cancelTimer()
    return true
  }

  private serve(w: Waiter, now: number): void {
    this.dequeue(w)
    this.lease.use(w.tokens)
    const waitMs = now - w.since
    this.s.waited(this.service, waitMs, w.priority, this.lastLimit)
    w.resolve({ waitMs, limit: this.lastLimit })
  }

  private leave(w: Waiter, error: unknown): void {
    if (this.dequeue(w)) w.reject(error)
  }

  private fail(w: Waiter, retryAfterMs: number, limit: RateLimitKind): void {
    if (this.dequeue(w)) w.reject(this.refusal(retryAfterMs, limit, w.priority))
  }

  private refusal(retryAfterMs: number, limit: RateLimitKind, priority: Priority): RateLimitError {
    const after = Math.max(0, retryAfterMs)
    this.s.limited(this.service, limit, after, priority)
    return new RateLimitError({ service: this.service, retryAfterMs: after, limit })
  }
}
