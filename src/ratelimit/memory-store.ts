import { systemClock, type Clock } from '../core/clock.js'
import { optionalClock, optionalNumber, requireOptions } from '../core/validate.js'
import { advance, type BucketState, newBucket, peek, take } from './budget-bucket.js'
import {
  type BudgetObservation,
  type BudgetReply,
  emptyReply,
  type RateLimitBudget,
  type RateLimitStore,
  type TakeRequest,
} from './rate-limit-store.js'

export interface InMemoryRateLimitStoreOptions {
  /**
   * Most services whose budget is kept. Past it, the service not touched for the longest is
   * forgotten (its budget starts whole again). An integer >= 1. Default 10 000.
   */
  maxServices?: number
  /** Source of time for the refill. Default `systemClock`. */
  clock?: Clock
}

export const DEFAULT_MAX_RATE_LIMIT_SERVICES = 10_000

const OWNER = 'InMemoryRateLimitStore'

/**
 * Budgets in this process's memory, one token bucket per service and kind. Guards given the same
 * store share each service's budget. Every operation answers synchronously.
 */
export class InMemoryRateLimitStore implements RateLimitStore {
  readonly maxServices: number
  private readonly clock: Clock
  private readonly buckets = new Map<string, BucketState>()
  /** Replies are written into this one object: callers read them at once (see RateLimitStore). */
  private readonly reply = emptyReply()

  constructor(options: InMemoryRateLimitStoreOptions = {}) {
    const o = requireOptions<InMemoryRateLimitStoreOptions>(OWNER, options, true)
    this.maxServices = optionalNumber(OWNER, 'maxServices', o.maxServices, DEFAULT_MAX_RATE_LIMIT_SERVICES, {
      integer: true,
      min: 1,
    })
    this.clock = optionalClock(OWNER, o.clock, false) ?? systemClock
  }

  /** Services whose budget is kept. */
  get size(): number {
    return this.buckets.size
  }

  take(service: string, budget: RateLimitBudget, request: TakeRequest): BudgetReply {
    const now = this.clock.now()
    return take(this.bucket(service, now), budget, request, now, this.reply)
  }

  learn(service: string, budget: RateLimitBudget, observation: BudgetObservation): void {
    const now = this.clock.now()
    advance(this.bucket(service, now), budget, now, observation)
  }

  peek(service: string, budget: RateLimitBudget): BudgetReply {
    const now = this.clock.now()
    return peek(this.bucket(service, now), budget, now, this.reply)
  }

  /** The service's bucket, moved to the back of the eviction order. */
  private bucket(service: string, now: number): BucketState {
    let s = this.buckets.get(service)
    if (s !== undefined) {
      this.buckets.delete(service)
    } else {
      s = newBucket(now)
      if (this.buckets.size >= this.maxServices) {
        this.buckets.delete(this.buckets.keys().next().value!)
      }
    }
    this.buckets.set(service, s)
    return s
  }
}
