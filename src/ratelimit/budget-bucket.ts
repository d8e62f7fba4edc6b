import type { RateLimitKind } from '../core/errors/rate-limit-error.js'
import type {
  BudgetLevel,
  BudgetObservation,
  BudgetReply,
  RateLimitBudget,
  TakeRequest,
} from './rate-limit-store.js'

/**
 * One service's budget: a token bucket per kind (requests, tokens). The Redis store's Lua scripts
 * (redis/lua/) mirror these functions step for step; the in-memory store and the Redis store's
 * per-process fallback run them as they are.
 */
export interface BucketState {
  /** Request level; undefined while no limit applies (the bucket starts whole when one appears). */
  requests: number | undefined
  /** Token level; undefined while no limit applies. */
  tokens: number | undefined
  /** When the levels were last brought up to date. */
  at: number
  /** Limits learned from a provider's headers; 0 means none. */
  learnedRequests: number
  learnedTokens: number
  /** A 429's "not before": nothing is ready earlier. */
  pausedUntil: number
  pauseLimit: RateLimitKind
}

/** Of what is left after a take, the share that may be handed out as spare lease at most. */
export const SPARE_SHARE_OF_LEVEL = 0.5

export function newBucket(now: number): BucketState {
  return {
    requests: undefined,
    tokens: undefined,
    at: now,
    learnedRequests: 0,
    learnedTokens: 0,
    pausedUntil: 0,
    pauseLimit: 'requests',
  }
}

/** The limit in force: the configured one, lowered by a learned one; 0 means none. */
export function limitOf(configured: number | undefined, learned: number): number {
  if (configured !== undefined && learned > 0) return Math.min(configured, learned)
  return configured ?? learned
}

function refill(level: number | undefined, limit: number, elapsed: number, windowMs: number) {
  if (limit <= 0) return undefined
  if (level === undefined) return limit
  return Math.min(limit, level + (elapsed * limit) / windowMs)
}

/**
 * A limit in force that drops (a learned limit below the configured one, or below the one learned
 * before) keeps what was used of the old one used: the level falls by the difference. Only capping
 * the level would forget the budget taken by calls the provider has not seen yet (still on their
 * way), and the fleet would overshoot the real limit by them before the headers catch up.
 */
function lowered(level: number | undefined, previous: number, limit: number) {
  if (level === undefined || previous <= 0 || limit >= previous) return level
  return level - (previous - limit)
}

/** What the provider says is left, `ageMs` ago, refilled since; never raises the level. */
function tighten(
  level: number | undefined,
  limit: number,
  remaining: number | undefined,
  ageMs: number,
  windowMs: number,
) {
  if (level === undefined || remaining === undefined) return level
  return Math.min(level, Math.min(limit, remaining + (ageMs * limit) / windowMs))
}

/**
 * Brings the bucket up to `now`: learned limits first (a lower one lowers the level by as much),
 * then the refill since the last update, then
 * what the observation (made `ageMs` ago) says is left, then a 429's pause.
 */
export function advance(
  s: BucketState,
  budget: RateLimitBudget,
  now: number,
  observation?: BudgetObservation,
  ageMs = 0,
): void {
  const o = observation
  const previousR = limitOf(budget.requests, s.learnedRequests)
  const previousT = limitOf(budget.tokens, s.learnedTokens)
  if (o?.requests?.limit !== undefined && o.requests.limit > 0) s.learnedRequests = o.requests.limit
  if (o?.tokens?.limit !== undefined && o.tokens.limit > 0) s.learnedTokens = o.tokens.limit
  const limitR = limitOf(budget.requests, s.learnedRequests)
  const limitT = limitOf(budget.tokens, s.learnedTokens)
  const elapsed = Math.max(0, now - s.at)
  s.requests = refill(lowered(s.requests, previousR, limitR), limitR, elapsed, budget.windowMs)
  s.tokens = refill(lowered(s.tokens, previousT, limitT), limitT, elapsed, budget.windowMs)
  s.at = now
  if (o === undefined) return
  s.requests = tighten(s.requests, limitR, o.requests?.remaining, ageMs, budget.windowMs)
  s.tokens = tighten(s.tokens, limitT, o.tokens?.remaining, ageMs, budget.windowMs)
  if (o.pauseMs !== undefined && o.pauseMs > 0 && now + o.pauseMs > s.pausedUntil) {
    s.pausedUntil = now + o.pauseMs
    s.pauseLimit = o.pauseLimit ?? 'requests'
  }
}

/** The level once a pause of `pauseMs` has ended: it refills meanwhile, up to the limit, as the provider's does. */
function atPauseEnd(level: number | undefined, limit: number, pauseMs: number, windowMs: number) {
  if (level === undefined || pauseMs <= 0) return level
  return Math.min(limit, level + (pauseMs * limit) / windowMs)
}

/** How long until `level` has refilled to `want`; -1 when `want` exceeds the limit itself. */
function waitFor(level: number | undefined, limit: number, want: number, windowMs: number): number {
  if (level === undefined || want <= 0) return 0
  if (want > limit) return -1
  if (level >= want) return 0
  return ((want - level) * windowMs) / limit
}

/** The part of `want` that is ready within `allowMs` (all of it without a limit). */
function extra(level: number | undefined, limit: number, want: number, allowMs: number, windowMs: number) {
  if (want <= 0) return 0
  if (level === undefined) return want
  return Math.max(0, Math.min(want, level + (allowMs * limit) / windowMs))
}

/** Back from the end of a pause to now: the refill of the pause is still to come. */
function beforePause(level: number | undefined, limit: number, pauseMs: number, windowMs: number) {
  if (level === undefined || pauseMs <= 0) return level
  return level - (pauseMs * limit) / windowMs
}

function fill(target: BudgetLevel, level: number | undefined, granted: number, limit: number): void {
  target.level = level ?? 0
  target.granted = granted
  target.limit = level === undefined ? 0 : limit
}

/**
 * Takes `request.need` (at once or reserved within `maxDelayMs`), reserves what of `queued` is
 * ready by then, and hands out up to `spare` more from what is there now; writes the answer into
 * `out`. A take that is refused changes nothing but the give-back. During a 429's pause, budget is
 * taken from the level the pause will end with, so its refill is capped at the limit once.
 */
export function take(
  s: BucketState,
  budget: RateLimitBudget,
  request: TakeRequest,
  now: number,
  out: BudgetReply,
  spare: { requests: number; tokens: number } = NO_SPARE,
): BudgetReply {
  advance(s, budget, now)
  const w = budget.windowMs
  const limitR = limitOf(budget.requests, s.learnedRequests)
  const limitT = limitOf(budget.tokens, s.learnedTokens)
  if (s.requests !== undefined) s.requests = Math.min(limitR, s.requests + request.give.requests)
  if (s.tokens !== undefined) s.tokens = Math.min(limitT, s.tokens + request.give.tokens)
  const pauseMs = Math.max(0, s.pausedUntil - now)
  const levelR = atPauseEnd(s.requests, limitR, pauseMs, w)
  const levelT = atPauseEnd(s.tokens, limitT, pauseMs, w)
  const { need, queued } = request
  const waitR = waitFor(levelR, limitR, need.requests, w)
  const waitT = waitFor(levelT, limitT, need.tokens, w)
  out.pauseMs = pauseMs
  out.leaseMs = Number.POSITIVE_INFINITY
  fill(out.requests, s.requests, 0, limitR)
  fill(out.tokens, s.tokens, 0, limitT)
  if (waitR < 0 || waitT < 0) {
    out.kind = 'never'
    out.limit = waitR < 0 ? 'requests' : 'tokens'
    out.waitMs = Number.POSITIVE_INFINITY
    return out
  }
  const refillWait = Math.max(waitR, waitT)
  out.limit = pauseMs > 0 && pauseMs >= refillWait ? s.pauseLimit : waitT > waitR ? 'tokens' : 'requests'
  out.waitMs = pauseMs + refillWait
  if (out.waitMs > request.maxDelayMs) {
    out.kind = 'wait'
    return out
  }
  out.kind = 'ok'
  // The schedule of the grant, as seen from now: its units are ready as the level refills past them.
  out.requests.level = beforePause(levelR, limitR, pauseMs, w) ?? 0
  out.tokens.level = beforePause(levelT, limitT, pauseMs, w) ?? 0
  const allowMs = request.maxDelayMs - pauseMs
  const paused = pauseMs > 0
  s.requests = levelR
  s.tokens = levelT
  out.requests.granted = grant(
    s,
    'requests',
    limitR,
    need.requests,
    queued.requests,
    paused ? 0 : spare.requests,
    allowMs,
    w,
  )
  out.tokens.granted = grant(
    s,
    'tokens',
    limitT,
    need.tokens,
    queued.tokens,
    paused ? 0 : spare.tokens,
    allowMs,
    w,
  )
  s.requests = beforePause(s.requests, limitR, pauseMs, w)
  s.tokens = beforePause(s.tokens, limitT, pauseMs, w)
  return out
}

const NO_SPARE = { requests: 0, tokens: 0 }

/** Takes need + the ready part of queued + spare from one kind's level; returns the amount granted. */
function grant(
  s: BucketState,
  kind: 'requests' | 'tokens',
  limit: number,
  need: number,
  queued: number,
  spare: number,
  allowMs: number,
  windowMs: number,
): number {
  const level = s[kind]
  if (level === undefined) return need + queued + spare
  let left = level - need
  const q = extra(left, limit, queued, allowMs, windowMs)
  left -= q
  const sp = Math.max(0, Math.min(spare, left * SPARE_SHARE_OF_LEVEL))
  s[kind] = left - sp
  return need + q + sp
}

/** The bucket as it stands (nothing granted). */
export function peek(s: BucketState, budget: RateLimitBudget, now: number, out: BudgetReply): BudgetReply {
  advance(s, budget, now)
  out.kind = 'ok'
  out.limit = s.pauseLimit
  out.waitMs = 0
  out.pauseMs = Math.max(0, s.pausedUntil - now)
  out.leaseMs = Number.POSITIVE_INFINITY
  fill(out.requests, s.requests, 0, limitOf(budget.requests, s.learnedRequests))
  fill(out.tokens, s.tokens, 0, limitOf(budget.tokens, s.learnedTokens))
  return out
}
