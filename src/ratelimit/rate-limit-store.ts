import type { RateLimitKind } from '../core/errors/rate-limit-error.js'

/**
 * A guard's budget per service: a token bucket per kind that holds at most `limit` and refills
 * `limit` per `windowMs`, continuously, the way OpenAI and Anthropic account for RPM and TPM.
 */
export interface RateLimitBudget {
  /** Requests per window; undefined when none is configured (a learned limit, else none). */
  readonly requests: number | undefined
  /** Tokens per window; undefined when none is configured (a learned limit, else none). */
  readonly tokens: number | undefined
  readonly windowMs: number
}

/** An amount of each budget. */
export interface BudgetAmount {
  requests: number
  tokens: number
}

/** One request to a store for budget, on behalf of the first waiting call and those behind it. */
export interface TakeRequest {
  /** What the first call needs. Granted whole (at once or reserved within `maxDelayMs`) or not at all. */
  need: BudgetAmount
  /** What the calls queued behind it need: reserved as far as it is ready within `maxDelayMs`. */
  queued: BudgetAmount
  /**
   * Budget this process took before and did not use, handed back first (negative: it used more
   * than it took — a settled token count above the reservation — and owes it).
   */
  give: BudgetAmount
  /** The longest the first call may wait for its `need`. */
  maxDelayMs: number
}

/** What a store says about one budget kind. */
export interface BudgetLevel {
  /**
   * The level just before this grant (after refill, give-back and learning). It may be negative:
   * budget reserved for calls that wait. The k-th unit granted is ready once the level has
   * refilled past k.
   */
  level: number
  /** Granted by this take (0 unless `kind` is 'ok'). */
  granted: number
  /** The limit in force: the configured one, lowered by a learned one; 0 means none. */
  limit: number
}

/** A store's answer to `take` (and, with nothing granted, to `peek` and `learn`). */
export interface BudgetReply {
  /** 'ok': granted; 'wait': `need` would take longer than `maxDelayMs`; 'never': it exceeds a limit. */
  kind: 'ok' | 'wait' | 'never'
  /** The budget that decided the wait, or that `need` exceeds. */
  limit: RateLimitKind
  /** 'ok': how long until `need` is ready (0: now). 'wait': how long it would take. 'never': Infinity. */
  waitMs: number
  requests: BudgetLevel
  tokens: BudgetLevel
  /** What is left of a pause a 429 imposed (nothing is ready before it ends). */
  pauseMs: number
  /** How long budget granted and not used may still be used; the rest goes back with the next take. */
  leaseMs: number
}

/** What a provider told us, as the budget sees it (see observation.ts). */
export interface BudgetObservation {
  /** Requests: the provider's limit per window and what is left of it now. */
  requests?: { limit?: number; remaining?: number }
  /** Tokens: the provider's limit per window and what is left of it now. */
  tokens?: { limit?: number; remaining?: number }
  /** A 429: nothing may go for this long (its Retry-After). */
  pauseMs?: number
  /** The budget the 429 was about. */
  pauseLimit?: RateLimitKind
}

/**
 * Where the budgets live. `InMemoryRateLimitStore` for one process, `RedisRateLimitStore` (from
 * `breakwater/redis`) for a fleet. A reply may be reused by the store once the next call is made:
 * read it at once.
 */
export interface RateLimitStore {
  /** Takes budget for a call (and reserves for those queued behind it). */
  take(service: string, budget: RateLimitBudget, request: TakeRequest): BudgetReply | Promise<BudgetReply>
  /** Applies what a provider reported: a learned limit, a lower remaining budget, a 429's pause. */
  learn(service: string, budget: RateLimitBudget, observation: BudgetObservation): void | Promise<void>
  /** The budget as it stands, without taking anything. */
  peek(service: string, budget: RateLimitBudget): BudgetReply | Promise<BudgetReply>
}

/** A reply object with every field present (stores fill it in). */
export function emptyReply(): BudgetReply {
  return {
    kind: 'ok',
    limit: 'requests',
    waitMs: 0,
    requests: { level: 0, granted: 0, limit: 0 },
    tokens: { level: 0, granted: 0, limit: 0 },
    pauseMs: 0,
    leaseMs: Number.POSITIVE_INFINITY,
  }
}
