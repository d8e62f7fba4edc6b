import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush } from '../helpers/deferred.js'
import { providerError } from './kit.js'

/** A budget that does not refill during a test (the test clock stays put): counts are exact. */
const SLOW = { windowMs: 3_600_000 }

describe('L1 refunds: a call that never reaches the provider gives its take back', () => {
  it('L1 shed by backpressure inside the limit: the request and tokens go back', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 3, tokens: 300, ...SLOW, clock })
    const pool = backpressureGuard({ hardLimit: 1 })
    const guard = compose(limit, pool)
    const gate = deferred<string>()
    const running = guard.execute(() => gate.promise, { cost: 100 })
    await flush()
    const shed = await guard.execute(() => 'never', { cost: 100 }).catch((e: unknown) => e)
    expect(isBackpressureShedError(shed)).toBe(true)
    expect(await limit.remaining()).toEqual({ requests: 2, tokens: 200, resetMs: expect.any(Number) })
    gate.resolve('done')
    expect(await running).toBe('done')
  })

  it('L1 refused by an open breaker inside the limit: the take goes back', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 3, ...SLOW, clock })
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 10_000, clock })
    const guard = compose(limit, breaker)
    await guard.execute(() => Promise.reject(providerError(503))).catch(() => {}) // reached the provider
    const refused = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(isBrokenCircuitError(refused)).toBe(true)
    expect((await limit.remaining()).requests).toBe(2)
  })

  it('L1 aborted while queued in an inner layer, before it was sent: the take goes back', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 3, ...SLOW, clock })
    const guard = compose(limit, backpressureGuard({ hardLimit: 1, maxQueue: 5 }))
    const gate = deferred<string>()
    const running = guard.execute(() => gate.promise)
    const controller = new AbortController()
    const queued = guard.execute(() => 'never', { signal: controller.signal }).catch((e: unknown) => e)
    await flush()
    expect((await limit.remaining()).requests).toBe(1)
    controller.abort(new Error('gone'))
    expect(((await queued) as Error).message).toBe('gone')
    await flush()
    expect((await limit.remaining()).requests).toBe(2)
    gate.resolve('ok')
    await running
  })

  it('L1 a call that reached the provider keeps its take, whatever the outcome', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 3, ...SLOW, clock })
    await limit.execute(() => Promise.reject(providerError(500))).catch(() => {})
    await limit.execute(() => Promise.reject(new Error('bad json'))).catch(() => {})
    expect((await limit.remaining()).requests).toBe(1)
  })

  it('L1 refunded budget goes to a waiting call at once', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 1, ...SLOW, maxWaitMs: SLOW.windowMs, clock })
    const pool = backpressureGuard({ hardLimit: 1 })
    const gate = deferred<string>()
    const occupant = pool.execute(() => gate.promise) // fills the pool without a take
    const started: string[] = []
    const shed = compose(limit, pool)
      .execute(() => started.push('shed'))
      .catch((e: unknown) => e) // takes the only request, is shed, gives it back
    const waiter = limit.execute(() => started.push('waiter')) // would have waited an hour
    expect(isBackpressureShedError(await shed)).toBe(true)
    await waiter
    expect(started).toEqual(['waiter'])
    expect(clock.now()).toBe(0)
    gate.resolve('x')
    await occupant
  })

  it('L1 retries inside the limit layer take one request per attempt', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 10, ...SLOW, clock })
    const guard = compose(limit, retryGuard({ maxAttempts: 3, baseDelayMs: 10, jitter: 'none', clock }))
    let attempts = 0
    const done = guard.execute(() => (++attempts < 3 ? Promise.reject(providerError(503)) : 'third time'))
    await clock.advance(100)
    expect(await done).toBe('third time')
    expect((await limit.remaining()).requests).toBe(7)
  })
})
