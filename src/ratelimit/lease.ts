import type { BudgetLevel, BudgetReply } from './rate-limit-store.js'

/**
 * One kind of the budget a guard took for a service and has not used yet. Units granted from a
 * level that was short are reserved, not ready: the k-th is ready once the store's level would
 * have refilled past k, so the schedule is known locally without asking again.
 */
class LeasePart {
  granted = 0
  /** Used so far; negative when calls gave back more than they took from this lease. */
  used = 0
  /** The store's level just before the grant. */
  level = 0
  /** Units per ms the store's level refills at; Infinity without a limit (all ready at once). */
  rate = Number.POSITIVE_INFINITY

  /** When `used + need` units are ready (local time), or Infinity when the lease does not hold them. */
  readyAt(need: number, since: number): number {
    const want = this.used + need
    if (need <= 0 || want <= 0) return since
    if (want > this.granted) return Number.POSITIVE_INFINITY
    if (this.rate === Number.POSITIVE_INFINITY || want <= this.level) return since
    return since + (want - this.level) / this.rate
  }

  /** Units ready and unused at `elapsed` ms after the grant. */
  available(elapsed: number): number {
    const ready =
      this.rate === Number.POSITIVE_INFINITY
        ? this.granted
        : Math.min(this.granted, Math.max(0, this.level + elapsed * this.rate))
    return ready - this.used
  }

  reset(from: BudgetLevel, windowMs: number, carry: number): void {
    this.granted = from.granted
    this.used = -carry
    this.level = from.level
    this.rate = from.limit > 0 ? from.limit / windowMs : Number.POSITIVE_INFINITY
  }

  /** How long after the grant its last unit is ready. */
  lastReadyIn(): number {
    if (this.rate === Number.POSITIVE_INFINITY || this.granted <= this.level) return 0
    return (this.granted - this.level) / this.rate
  }

  /** Forgets the grant; returns what was not used (negative: owed). */
  drain(): number {
    const left = this.granted - this.used
    this.granted = this.used = this.level = 0
    this.rate = Number.POSITIVE_INFINITY
    return left
  }
}

/**
 * The budget a guard holds for one service: taken from the store for the calls waiting (and, from
 * a Redis store, a small spare), used call by call without asking the store again, and handed back
 * with the next take. Refunds and token settlements land here too, so they cost no round trip.
 */
export class Lease {
  private readonly r = new LeasePart()
  private readonly t = new LeasePart()
  /** Local time of the grant. */
  private since = 0
  /** Until when the unused part may be used (local time). */
  private expiresAt = Number.NEGATIVE_INFINITY
  private pausedUntil = Number.NEGATIVE_INFINITY

  constructor(private readonly windowMs: number) {}

  /** When a call needing 1 request and `tokens` tokens can go (local time); Infinity: ask the store. */
  readyAt(tokens: number, now: number): number {
    // Past its expiry only what calls gave back is still usable (the grant goes back with the next take).
    const at =
      now >= this.expiresAt
        ? this.r.used + 1 <= 0 && this.t.used + tokens <= 0
          ? now
          : Number.POSITIVE_INFINITY
        : Math.max(this.r.readyAt(1, this.since), this.t.readyAt(tokens, this.since))
    return Math.max(at, this.pausedUntil)
  }

  use(tokens: number): void {
    this.r.used += 1
    this.t.used += tokens
  }

  /** A call gives back what it took (it never reached the provider), or settles its tokens. */
  giveBack(requests: number, tokens: number): void {
    this.r.used -= requests
    this.t.used -= tokens
  }

  /** Empties the lease into `into`: what it held unused, to hand back to the store. */
  drainInto(into: { requests: number; tokens: number }): void {
    into.requests = this.r.drain()
    into.tokens = this.t.drain()
    this.expiresAt = Number.NEGATIVE_INFINITY
  }

  /** Takes a store's grant; anything given back or settled since the drain is carried over. */
  reset(reply: BudgetReply, now: number): void {
    const carryR = this.r.granted - this.r.used
    const carryT = this.t.granted - this.t.used
    this.r.reset(reply.requests, this.windowMs, carryR)
    this.t.reset(reply.tokens, this.windowMs, carryT)
    this.since = now
    this.pausedUntil = Math.max(this.pausedUntil, now + reply.pauseMs)
    // Reserved units must not expire before they are ready: the lease lasts from its last one.
    const lastReady = Math.max(reply.waitMs, this.r.lastReadyIn(), this.t.lastReadyIn())
    this.expiresAt = now + lastReady + reply.leaseMs
  }

  /** A provider reported less left than the lease holds ready: no more than that is used now. */
  clamp(kind: 'requests' | 'tokens', remaining: number, now: number): void {
    const part = kind === 'requests' ? this.r : this.t
    const over = part.available(now - this.since) - remaining
    if (over > 0) part.used += over
  }

  /** A 429's pause: nothing from this lease goes before it ends. */
  pause(ms: number, now: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, now + ms)
  }

  /** Requests and tokens ready and unused now (Infinity for a kind without a limit). */
  available(now: number): { requests: number; tokens: number } {
    if (now >= this.expiresAt || now < this.pausedUntil)
      return { requests: -this.r.used, tokens: -this.t.used }
    return { requests: this.r.available(now - this.since), tokens: this.t.available(now - this.since) }
  }
}
