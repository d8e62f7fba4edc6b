import { classifyError, headersOf } from '../classify/classify-error.js'
import { parseRateLimitHeaders } from '../classify/rate-limit-headers.js'
import { retryAfterMs } from '../classify/retry-after.js'
import { noop } from '../core/abort.js'
import { listenForAnswers } from '../core/answer-channel.js'
import { systemClock, type Clock } from '../core/clock.js'
import { serviceOf, type ExecutionContext } from '../core/context.js'
import { EventEmitter } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import { readAnswer } from './answer-reading.js'
import { InMemoryRateLimitStore } from './memory-store.js'
import { checkObservation } from './observe-checks.js'
import { fromHeaders, fromRateLimited, usedTokens } from './observation.js'
import { Pacer, type PacerSettings } from './pacer.js'
import type {
  RateLimitedEvent,
  RateLimitObservation,
  RateLimitOptions,
  RateLimitRemaining,
  RateLimitWaitEvent,
} from './rate-limit-options.js'
import type { BudgetObservation, RateLimitBudget, RateLimitStore } from './rate-limit-store.js'
import { resolveRateLimitOptions } from './resolve-options.js'

/** Services with a pacer at most; past it, idle ones are forgotten (their lease goes unused). */
const MAX_PACERS = 10_000

/**
 * Keeps calls inside a provider's budget per window (DESIGN §3 L1–L5): each call takes 1 request
 * and its `cost` in tokens before it runs; when the budget is short it waits (abortable, holding
 * nothing, background behind foreground) up to `maxWaitMs`, else fails with RateLimitError. A call
 * that never reached `fn` gives its take back. What providers report flows in from the call's
 * answer channel (the provider wrappers report every answer there: headers and 429s are learned,
 * the take is settled to the usage), from errors passing through, and through `observe()`.
 */
export class RateLimitGuard extends GuardBase {
  readonly name = 'rateLimit'
  readonly budget: RateLimitBudget
  readonly maxWaitMs: number
  readonly learnFromHeaders: boolean
  readonly store: RateLimitStore
  private readonly clock: Clock
  private readonly service: string | undefined
  private readonly pacers = new Map<string, Pacer>()
  private readonly settings: PacerSettings
  private readonly waitEmitter = new EventEmitter<RateLimitWaitEvent>()
  private readonly limitedEmitter = new EventEmitter<RateLimitedEvent>()
  /** A call that waited for budget, when it goes. */
  readonly onWait = this.waitEmitter.addListener
  /** A call refused with RateLimitError. */
  readonly onLimited = this.limitedEmitter.addListener

  constructor(options: RateLimitOptions) {
    super()
    const o = resolveRateLimitOptions(options)
    this.budget = Object.freeze({ requests: o.requests, tokens: o.tokens, windowMs: o.windowMs })
    this.maxWaitMs = o.maxWaitMs
    this.learnFromHeaders = o.learnFromHeaders
    this.clock = o.clock ?? systemClock
    this.store = o.store ?? new InMemoryRateLimitStore({ clock: this.clock })
    this.service = o.service
    const waits = this.waitEmitter
    const limits = this.limitedEmitter
    this.settings = {
      store: this.store,
      budget: this.budget,
      clock: this.clock,
      maxWaitMs: this.maxWaitMs,
      waited(service, waitMs, priority, limit) {
        if (waits.size > 0) waits.emit({ service, waitMs, priority, limit })
      },
      limited(service, limit, retryAfterMs, priority) {
        if (limits.size > 0) limits.emit({ service, limit, retryAfterMs, priority })
      },
    }
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    const pacer = this.pacer(serviceOf(ctx, this.service))
    const tokens = ctx.cost
    let admitted: true | Promise<void>
    try {
      admitted = pacer.admit(ctx.priority, tokens, ctx.signal)
    } catch (error) {
      return Promise.reject(error)
    }
    if (admitted === true) return this.run(next, ctx, pacer, tokens)
    return admitted.then(() => this.run(next, ctx, pacer, tokens))
  }

  /**
   * The budget left to this process for a service now: the store's, plus what this guard holds
   * unused. Undefined for a kind without a limit.
   */
  async remaining(service?: string): Promise<RateLimitRemaining> {
    const name = service ?? this.service ?? 'default'
    const reply = await this.store.peek(name, this.budget)
    const held = this.pacers.get(name)?.lease.available(this.clock.now())
    const out: RateLimitRemaining = { resetMs: reply.pauseMs }
    const w = this.budget.windowMs
    for (const kind of ['requests', 'tokens'] as const) {
      const { level, limit } = reply[kind]
      if (limit <= 0) continue
      out[kind] = Math.max(0, Math.floor(level + (held?.[kind] ?? 0)))
      out.resetMs = Math.max(out.resetMs, ((limit - level) * w) / limit)
    }
    return out
  }

  /**
   * What a response told us, for code whose answers do not reach the call's answer channel (the
   * provider wrappers report there, and so does `reportAnswer` inside `fn`): its headers (learned
   * per L3 unless `learnFromHeaders` is false), its status (429: the budget is empty until its
   * Retry-After), and its token usage, which settles the call's reservation (`reserved`: the cost
   * it ran with) — the difference goes back to the budget, or is taken from it.
   */
  observe(service: string, observation: RateLimitObservation): void {
    const name = checkObservation(service, observation)
    const pacer = this.pacer(name)
    this.learn(pacer, observation.headers, observation.status)
    const used = observation.usage === undefined ? undefined : usedTokens(observation.usage)
    if (used !== undefined) {
      pacer.lease.giveBack(0, (observation.reserved ?? 0) - used)
      pacer.changed()
    }
  }

  /**
   * Runs the call, listening on its answer channel while it runs (a held stream: until the hold
   * settles, since its usage is reported at its end). Each answer is learned and settles one take
   * to its usage; a call that never reached `fn` gives its take back; an error nobody reported an
   * answer for (an SDK's own error) is learned from.
   */
  private run(next: Next, ctx: ExecutionContext, pacer: Pacer, tokens: number): Promise<unknown> {
    const before = ctx.fnStarts
    let heard = false
    const subscription = listenForAnswers(ctx, (answer) => {
      heard = true
      this.hear(pacer, tokens, answer)
    })
    let running: Promise<unknown>
    try {
      running = next(ctx)
    } catch (error) {
      running = Promise.reject(error)
    }
    return running.then(
      (value) => {
        if (ctx.fnStarts - before !== 1) this.settleAttempts(pacer, ctx.fnStarts - before, tokens)
        const held = ctx.takeHeld()
        if (held === undefined) subscription.dispose()
        else held.then(dispose(subscription), dispose(subscription))
        return value
      },
      (error: unknown) => {
        subscription.dispose()
        const reached = ctx.fnStarts - before
        if (reached !== 1) this.settleAttempts(pacer, reached, tokens)
        if (reached > 0 && !heard) this.learnFromError(pacer, error)
        throw error
      },
    )
  }

  /**
   * One answer of an attempt that took `tokens`: the take is settled to the usage (the difference
   * goes back to the budget, or is taken from it), then its headers and a 429 are learned — in that
   * order, so what the provider says is left is the last word (it counted the request already).
   */
  private hear(pacer: Pacer, tokens: number, answer: unknown): void {
    const a = readAnswer(answer, this.clock.now())
    if (a === undefined) return
    const settles = a.used !== undefined && a.used !== tokens
    if (settles) pacer.lease.giveBack(0, tokens - a.used!)
    this.learn(pacer, a.headers, a.rateLimited ? 429 : undefined)
    if (settles) pacer.changed()
  }

  /**
   * One take covers one call of `fn`. None (shed, a broken circuit, an abort before it ran): the
   * take goes back. Several (a retry inside this guard's layer): each extra one is taken too.
   */
  private settleAttempts(pacer: Pacer, reached: number, tokens: number): void {
    const extra = reached - 1
    pacer.lease.giveBack(-extra, -extra * tokens)
    if (reached === 0) pacer.changed()
  }

  private learnFromError(pacer: Pacer, error: unknown): void {
    if (typeof error !== 'object' || error === null) return
    const c = classifyError(error, { now: this.clock.now() })
    const rateLimited = c.status === 429 && c.reason === 'rate_limited'
    if (!rateLimited && !this.learnFromHeaders) return
    this.learn(pacer, headersOf(error as Record<string, unknown>), rateLimited ? 429 : undefined)
  }

  private learn(pacer: Pacer, headers: unknown, status: number | undefined): void {
    const now = this.clock.now()
    const w = this.budget.windowMs
    let o: BudgetObservation | undefined
    if (this.learnFromHeaders && headers !== undefined)
      o = fromHeaders(parseRateLimitHeaders(headers, now), w)
    if (status === 429)
      o = fromRateLimited(o, headers === undefined ? undefined : retryAfterMs(headers, now), w)
    if (o === undefined) return
    const lease = pacer.lease
    if (o.requests?.remaining !== undefined) lease.clamp('requests', o.requests.remaining, now)
    if (o.tokens?.remaining !== undefined) lease.clamp('tokens', o.tokens.remaining, now)
    if (o.pauseMs !== undefined && o.pauseMs > 0) lease.pause(o.pauseMs, now)
    const done = this.store.learn(pacer.service, this.budget, o)
    if (done !== undefined) done.then(undefined, noop)
  }

  private pacer(service: string): Pacer {
    const found = this.pacers.get(service)
    if (found !== undefined) return found
    if (this.pacers.size >= MAX_PACERS) {
      for (const [name, p] of this.pacers) {
        if (p.idle) this.pacers.delete(name)
        if (this.pacers.size < MAX_PACERS / 2) break
      }
    }
    const pacer = new Pacer(service, this.settings)
    this.pacers.set(service, pacer)
    return pacer
  }
}

function dispose(subscription: { dispose(): void }): () => void {
  return () => subscription.dispose()
}

/** Creates a rate limit guard. */
export function rateLimitGuard(options: RateLimitOptions): RateLimitGuard {
  return new RateLimitGuard(options)
}
