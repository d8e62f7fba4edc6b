import { advance, type BucketState, newBucket, peek, take } from '../budget-bucket.js'
import {
  type BudgetObservation,
  type BudgetReply,
  emptyReply,
  type RateLimitBudget,
  type TakeRequest,
} from '../rate-limit-store.js'
import type { SharedView } from './shared-view.js'

interface Share {
  bucket: BucketState
  /** The service's budget scaled to this process's share. */
  budget: RateLimitBudget
}

/**
 * What answers while Redis is unusable (D5 for budgets): each process gets a share of every
 * budget — by default 1 / the processes that took from it lately — never the whole of it and never
 * unlimited, in a bucket of its own that starts from the share of the level last heard from Redis.
 * Forgotten when Redis is back: the fleet budget applies again.
 */
export class FallbackShare {
  private readonly shares = new Map<string, Share>()
  private readonly reply = emptyReply()

  constructor(
    private readonly view: SharedView,
    private readonly fixedShare: number | undefined,
    private readonly now: () => number,
    private readonly maxServices: number,
  ) {}

  take(service: string, budget: RateLimitBudget, request: TakeRequest, leaseMs: number): BudgetReply {
    const s = this.share(service, budget)
    const out = take(s.bucket, s.budget, request, this.now(), this.reply)
    out.leaseMs = leaseMs
    return out
  }

  learn(service: string, budget: RateLimitBudget, o: BudgetObservation): void {
    const s = this.share(service, budget)
    advance(s.bucket, s.budget, this.now(), scaleObservation(o, this.fraction(service)))
  }

  peek(service: string, budget: RateLimitBudget): BudgetReply {
    const s = this.share(service, budget)
    return peek(s.bucket, s.budget, this.now(), this.reply)
  }

  clear(): void {
    this.shares.clear()
  }

  /** This process's share of the service's budget. */
  private fraction(service: string): number {
    if (this.fixedShare !== undefined) return this.fixedShare
    const processes = this.view.get(service)?.processes ?? 0
    return 1 / Math.max(1, processes)
  }

  private share(service: string, budget: RateLimitBudget): Share {
    const found = this.shares.get(service)
    if (found !== undefined && found.budget.windowMs === budget.windowMs) return found
    const f = this.fraction(service)
    const v = this.view.get(service)
    const now = this.now()
    // The limits in force as last heard (learned ones included), else the configured ones.
    const limitR = v !== undefined && v.limitR > 0 ? v.limitR : budget.requests
    const limitT = v !== undefined && v.limitT > 0 ? v.limitT : budget.tokens
    const scaled: RateLimitBudget = {
      requests: limitR === undefined ? undefined : limitR * f,
      tokens: limitT === undefined ? undefined : limitT * f,
      windowMs: budget.windowMs,
    }
    const bucket = newBucket(now)
    if (v !== undefined) {
      const r = this.view.level(v, 'requests', now, budget.windowMs)
      const t = this.view.level(v, 'tokens', now, budget.windowMs)
      if (r !== undefined && scaled.requests !== undefined) bucket.requests = Math.min(scaled.requests, r * f)
      if (t !== undefined && scaled.tokens !== undefined) bucket.tokens = Math.min(scaled.tokens, t * f)
    }
    if (this.shares.size >= this.maxServices) this.shares.delete(this.shares.keys().next().value!)
    const share = { bucket, budget: scaled }
    this.shares.set(service, share)
    return share
  }
}

function scaleObservation(o: BudgetObservation, f: number): BudgetObservation {
  const kind = (k: BudgetObservation['requests']) =>
    k === undefined
      ? undefined
      : {
          ...(k.limit !== undefined && { limit: k.limit * f }),
          ...(k.remaining !== undefined && { remaining: k.remaining * f }),
        }
  const requests = kind(o.requests)
  const tokens = kind(o.tokens)
  return {
    ...(requests && { requests }),
    ...(tokens && { tokens }),
    ...(o.pauseMs !== undefined && { pauseMs: o.pauseMs }),
    ...(o.pauseLimit !== undefined && { pauseLimit: o.pauseLimit }),
  }
}
