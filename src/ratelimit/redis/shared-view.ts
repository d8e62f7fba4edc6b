import type { BudgetObservation, BudgetReply, RateLimitBudget } from '../rate-limit-store.js'
import { URGENT_SHARE_OF_LIMIT } from './redis-store-options.js'

/** What this process last heard from Redis about one service's budget. */
export interface ServiceView {
  limitR: number
  limitT: number
  /** Levels right after that reply (local time `at`). */
  levelR: number
  levelT: number
  at: number
  /** Processes that took from the budget lately (0: not known). */
  processes: number
}

/** An observation not sent yet: it goes with the service's next take. */
interface Pending {
  observation: BudgetObservation
  at: number
}

/**
 * Per service, the fleet budget as this process last heard it (for spare lease sizes, the
 * fallback share, and whether an observation is worth a command of its own), and the latest
 * observation waiting to ride along with the next take. Bounded: past `maxServices` the oldest goes.
 */
export class SharedView {
  private readonly views = new Map<string, ServiceView>()
  private readonly pending = new Map<string, Pending>()

  constructor(private readonly maxServices: number) {}

  get(service: string): ServiceView | undefined {
    return this.views.get(service)
  }

  /** Learns a reply (levels after what it granted). */
  heard(service: string, reply: BudgetReply, processes: number, now: number): void {
    let v = this.views.get(service)
    if (v === undefined) {
      if (this.views.size >= this.maxServices) this.views.delete(this.views.keys().next().value!)
      v = { limitR: 0, limitT: 0, levelR: 0, levelT: 0, at: now, processes: 0 }
      this.views.set(service, v)
    }
    v.limitR = reply.requests.limit
    v.limitT = reply.tokens.limit
    v.levelR = reply.requests.level - reply.requests.granted
    v.levelT = reply.tokens.level - reply.tokens.granted
    v.at = now
    if (processes > 0) v.processes = processes
  }

  /** The level the view implies now (refilled since it was heard); undefined without a limit. */
  level(v: ServiceView, kind: 'requests' | 'tokens', now: number, windowMs: number): number | undefined {
    const limit = kind === 'requests' ? v.limitR : v.limitT
    if (limit <= 0) return undefined
    const level = kind === 'requests' ? v.levelR : v.levelT
    return Math.min(limit, level + ((now - v.at) * limit) / windowMs)
  }

  /**
   * True when an observation should go to Redis at once: a pause, a limit that changes the one in
   * force, or much less left than this process last heard (or nothing heard yet).
   */
  urgent(service: string, budget: RateLimitBudget, o: BudgetObservation, now: number): boolean {
    if (o.pauseMs !== undefined && o.pauseMs > 0) return true
    const v = this.views.get(service)
    if (v === undefined) return true
    for (const kind of ['requests', 'tokens'] as const) {
      const seen = o[kind]
      if (seen === undefined) continue
      const configured = budget[kind]
      const inForce = kind === 'requests' ? v.limitR : v.limitT
      if (seen.limit !== undefined && seen.limit > 0) {
        const next = configured === undefined ? seen.limit : Math.min(configured, seen.limit)
        if (next !== inForce) return true
      }
      const level = this.level(v, kind, now, budget.windowMs)
      if (
        seen.remaining !== undefined &&
        level !== undefined &&
        level - seen.remaining > URGENT_SHARE_OF_LIMIT * inForce
      )
        return true
    }
    return false
  }

  /** Keeps the latest observation to send with the next take. */
  defer(service: string, observation: BudgetObservation, now: number): void {
    this.pending.set(service, { observation, at: now })
  }

  /** The observation waiting for the service's next take, with its age; it is sent now. */
  takePending(
    service: string,
    now: number,
    windowMs: number,
  ): { observation: BudgetObservation; ageMs: number } | undefined {
    const p = this.pending.get(service)
    if (p === undefined) return undefined
    this.pending.delete(service)
    const ageMs = now - p.at
    return ageMs > windowMs ? undefined : { observation: p.observation, ageMs }
  }

  clear(): void {
    this.views.clear()
    this.pending.clear()
  }
}
