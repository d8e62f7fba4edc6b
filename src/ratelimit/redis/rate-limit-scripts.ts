import type { RateLimitKind } from '../../core/errors/rate-limit-error.js'
import type { BudgetObservation, BudgetReply, RateLimitBudget, TakeRequest } from '../rate-limit-store.js'
import { LEARN_LUA } from './lua/learn.js'
import { PEEK_LUA } from './lua/peek.js'
import { TAKE_LUA } from './lua/take.js'

/** The rate limit scripts, one per operation, each on the service's one hash (see lua/prelude.ts). */
export const RATE_LIMIT_SCRIPTS = {
  bwRlTake: TAKE_LUA,
  bwRlLearn: LEARN_LUA,
  bwRlPeek: PEEK_LUA,
} as const

export type RateLimitScript = keyof typeof RATE_LIMIT_SCRIPTS

const NONE: readonly string[] = ['0', '0', '', '', '0', '0', 'requests']

/** ARGV[1..11]: the budget, then the observation (made `ageMs` ago), or none. */
export function commonArgs(
  budget: RateLimitBudget,
  keyTtlMs: number,
  observation: BudgetObservation | undefined,
  ageMs: number,
): string[] {
  const head = [
    String(budget.requests ?? 0),
    String(budget.tokens ?? 0),
    String(budget.windowMs),
    String(keyTtlMs),
  ]
  if (observation === undefined) return [...head, ...NONE]
  const o = observation
  return [
    ...head,
    String(o.requests?.limit ?? 0),
    String(o.tokens?.limit ?? 0),
    o.requests?.remaining === undefined ? '' : String(o.requests.remaining),
    o.tokens?.remaining === undefined ? '' : String(o.tokens.remaining),
    String(Math.max(0, ageMs)),
    String(o.pauseMs ?? 0),
    o.pauseLimit ?? 'requests',
  ]
}

/** ARGV[12..22] of a take. */
export function takeArgs(
  request: TakeRequest,
  spare: { requests: number; tokens: number },
  processId: string,
  activeMs: number,
): string[] {
  const { need, queued, give } = request
  return [
    String(need.requests),
    String(need.tokens),
    String(queued.requests),
    String(queued.tokens),
    String(spare.requests),
    String(spare.tokens),
    String(give.requests),
    String(give.tokens),
    String(request.maxDelayMs),
    processId,
    String(activeMs),
  ]
}

/** A script's reply, and how many processes took from the budget lately (takes only; else 0). */
export interface ScriptReply {
  readonly reply: BudgetReply
  readonly processes: number
}

/** Reads a script's reply; `leaseMs` is the store's own. */
export function parseReply(raw: unknown, leaseMs: number): ScriptReply {
  if (!Array.isArray(raw) || raw.length < 11)
    throw new Error(`unexpected rate limit script reply: ${String(raw)}`)
  const n = (i: number): number => Number(raw[i])
  const kind = String(raw[0]) as BudgetReply['kind']
  const waitMs = n(2)
  const reply: BudgetReply = {
    kind,
    limit: String(raw[1]) as RateLimitKind,
    waitMs: waitMs < 0 ? Number.POSITIVE_INFINITY : waitMs,
    requests: { level: n(3), granted: n(4), limit: n(5) },
    tokens: { level: n(6), granted: n(7), limit: n(8) },
    pauseMs: n(9),
    leaseMs,
  }
  return { reply, processes: n(10) }
}
