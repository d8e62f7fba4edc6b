/**
 * The Lua scripts mirror src/ratelimit/budget-bucket.ts step for step: random sequences of takes
 * (with queues, spares, give-backs and owed budget) and observations (limits, what is left, 429
 * pauses) get the same answers from both. The window is so long that refill between two steps is
 * far below the tolerance, so the in-process bucket and Redis (each on its own clock) agree.
 */
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { advance, newBucket, take } from '../../src/ratelimit/budget-bucket.js'
import {
  type BudgetObservation,
  type BudgetReply,
  emptyReply,
  type RateLimitBudget,
  type TakeRequest,
} from '../../src/ratelimit/rate-limit-store.js'
import {
  commonArgs,
  parseReply,
  RATE_LIMIT_SCRIPTS,
  takeArgs,
} from '../../src/ratelimit/redis/rate-limit-scripts.js'
import { defineScripts, runScript } from '../../src/redis-common/scripts.js'
import { type RedisServer, startRedis } from '../helpers/redis-server.js'
import { storeFactory } from './redis-fixtures.js'

let server: RedisServer
const stores = storeFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => stores.closeAll())

const WINDOW = 1e12

type Step =
  | { kind: 'take'; request: TakeRequest; spare: { requests: number; tokens: number } }
  | { kind: 'learn'; observation: BudgetObservation }

const amount = (max: number) =>
  fc.record({ requests: fc.integer({ min: 0, max }), tokens: fc.integer({ min: 0, max: max * 100 }) })
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      request: fc.record({
        need: fc.record({ requests: fc.constant(1), tokens: fc.integer({ min: 0, max: 400 }) }),
        queued: amount(5),
        give: fc.record({
          requests: fc.integer({ min: -2, max: 3 }),
          tokens: fc.integer({ min: -200, max: 300 }),
        }),
        maxDelayMs: fc.constantFrom(0, 1e9, 1e13),
      }),
      spare: amount(3),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('learn' as const),
      observation: fc.record(
        {
          requests: fc.record(
            { limit: fc.integer({ min: 1, max: 30 }), remaining: fc.integer({ min: 0, max: 30 }) },
            { requiredKeys: [] },
          ),
          tokens: fc.record(
            { limit: fc.integer({ min: 1, max: 3_000 }), remaining: fc.integer({ min: 0, max: 3_000 }) },
            { requiredKeys: [] },
          ),
          pauseMs: fc.constantFrom(0, 1e12),
          pauseLimit: fc.constantFrom('requests' as const, 'tokens' as const),
        },
        { requiredKeys: [] },
      ),
    }),
  },
)
const budget: fc.Arbitrary<RateLimitBudget> = fc.record({
  requests: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  tokens: fc.option(fc.integer({ min: 100, max: 2_000 }), { nil: undefined }),
  windowMs: fc.constant(WINDOW),
})

/** What must match exactly: the verdict and the limits. */
function comparable(r: BudgetReply) {
  return {
    kind: r.kind,
    limit: r.kind === 'ok' && r.waitMs < 1 ? 'any' : r.limit,
    requests: r.requests.limit,
    tokens: r.tokens.limit,
  }
}

/**
 * What may differ by the few ms between the two clocks, each within a tolerance (rounding both
 * sides would split a value that sits on a rounding boundary): levels and grants by a refill of
 * under 0.01, waits and pauses (durations on each side's own clock) by under 10 s.
 */
function expectNear(remote: BudgetReply, local: BudgetReply): void {
  const near = (a: number, b: number, tolerance: number, what: string) => {
    if (a === b) return
    expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThan(tolerance)
  }
  near(remote.waitMs, local.waitMs, 1e4, 'waitMs')
  near(remote.pauseMs, local.pauseMs, 1e4, 'pauseMs')
  for (const kind of ['requests', 'tokens'] as const) {
    near(remote[kind].level, local[kind].level, 0.01, `${kind}.level`)
    near(remote[kind].granted, local[kind].granted, 0.01, `${kind}.granted`)
  }
}

describe('L2 the Lua scripts mirror the bucket', () => {
  it('L2 take and learn answer the same in Redis as in process, for random sequences', async () => {
    const store = stores.make()
    await store.ready()
    const cmd = server.client()
    defineScripts(cmd, RATE_LIMIT_SCRIPTS)
    let run = 0
    await fc.assert(
      fc.asyncProperty(budget, fc.array(step, { minLength: 1, maxLength: 25 }), async (b, steps) => {
        const key = store.key(`mirror-${run++}`)
        const bucket = newBucket(Date.now())
        for (const [i, s] of steps.entries()) {
          if (s.kind === 'learn') {
            // Each pause ends later than the one before by far more than the two clocks differ,
            // so both sides agree which one is in force; and its length is no whole multiple of a
            // request's refill time (window / limit, limit ≤ 30), or a refill wait would tie with
            // it and the clocks' few ms would pick which limit is named.
            if (s.observation.pauseMs) s.observation.pauseMs = 1e12 + (i + 0.5) * 1e9
            advance(bucket, b, Date.now(), s.observation)
            await runScript(cmd, 'bwRlLearn', key, commonArgs(b, 60_000, s.observation, 0))
            continue
          }
          const mine = take(bucket, b, s.request, Date.now(), emptyReply(), s.spare)
          const raw = await runScript(cmd, 'bwRlTake', key, [
            ...commonArgs(b, 60_000, undefined, 0),
            ...takeArgs(s.request, s.spare, 'mirror', 60_000),
          ])
          const theirs = parseReply(raw, Infinity).reply
          const remote = comparable(theirs)
          const local = comparable(mine)
          // A wait within a second of maxDelayMs is a tie the clocks' few ms decide: the two
          // sides may go either way, and part from there.
          if (remote.kind !== local.kind && Math.abs(mine.waitMs - s.request.maxDelayMs) < 1_000) return
          // Both limits asking the same wait is a tie too: either may be named.
          if (remote.limit !== local.limit && Math.abs(theirs.waitMs - mine.waitMs) < 1e4)
            remote.limit = local.limit
          expect(remote).toEqual(local)
          expectNear(theirs, mine)
        }
      }),
      { numRuns: 200 },
    )
  }, 60_000)
})
