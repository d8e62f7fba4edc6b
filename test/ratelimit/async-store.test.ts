/**
 * L1 with a store that answers asynchronously (as the Redis store does), its answers released by
 * the test: the calls waiting meanwhile, aborts and running out of time while the store is asked.
 */
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { compose } from '../../src/core/compose.js'
import { isRateLimitError } from '../../src/core/errors/rate-limit-error.js'
import { InMemoryRateLimitStore } from '../../src/ratelimit/memory-store.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import type { BudgetReply, RateLimitStore } from '../../src/ratelimit/rate-limit-store.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { deferred, flush } from '../helpers/deferred.js'
import { recorder } from './kit.js'

/** An in-memory store whose takes answer only when the test says so (in order). */
function slowStore(clock: TestClock) {
  const inner = new InMemoryRateLimitStore({ clock })
  const gates: (() => void)[] = []
  const store: RateLimitStore = {
    take(service, budget, request) {
      const gate = deferred()
      gates.push(() => gate.resolve())
      // The question is read when asked (as the Redis store does), the answer given later.
      const copy = structuredClone(request)
      return gate.promise.then((): BudgetReply => structuredClone(inner.take(service, budget, copy)))
    },
    learn: (service, budget, o) => inner.learn(service, budget, o),
    peek: (service, budget) => inner.peek(service, budget),
  }
  return {
    store,
    asked: () => gates.length,
    async answer(): Promise<void> {
      gates.shift()!()
      await flush()
    },
  }
}

describe('L1 with a store that answers asynchronously', () => {
  it('L1 calls arriving while the store is asked wait for its answer, and the next question reserves for all of them', async () => {
    const clock = testClock()
    const slow = slowStore(clock)
    const guard = rateLimitGuard({ requests: 10, windowMs: 1_000, store: slow.store, clock })
    const r = recorder(clock)
    const calls = ['a', 'b', 'c'].map((label) => r.call(guard, label))
    await flush()
    expect(slow.asked()).toBe(1) // one question out at a time
    await slow.answer() // a's budget
    expect(r.order()).toEqual(['a'])
    expect(slow.asked()).toBe(1) // b asks, for c too
    await slow.answer()
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c'])
    expect(slow.asked()).toBe(0)
  })

  it('L1 a waiter that aborts while the store is asked for it leaves at once; its budget goes to the next', async () => {
    const clock = testClock()
    const slow = slowStore(clock)
    const guard = rateLimitGuard({ requests: 10, windowMs: 1_000, store: slow.store, clock })
    const r = recorder(clock)
    const controller = new AbortController()
    const first = r.call(guard, 'first', { signal: controller.signal })
    const second = r.call(guard, 'second')
    await flush()
    controller.abort(new Error('gone'))
    expect(((await first) as Error).message).toBe('gone')
    await slow.answer() // granted for first and the queue: second goes without asking again
    expect(await second).toBe('second')
    expect(slow.asked()).toBe(0)
    expect(r.order()).toEqual(['second'])
  })

  it('L1 maxWaitMs running out while the store is asked: an answer "now" still lets the call go, a later one refuses it', async () => {
    const clock = testClock()
    const slow = slowStore(clock)
    const guard = rateLimitGuard({ requests: 1, windowMs: 1_000, maxWaitMs: 0, store: slow.store, clock })
    const r = recorder(clock)
    const now = r.call(guard, 'now')
    await flush()
    await clock.advance(0) // its maxWaitMs (0) runs out while the store is asked
    await slow.answer()
    expect(await now).toBe('now') // the round trip is not a wait for budget
    const later = r.call(guard, 'later')
    await flush()
    await slow.answer() // the budget is spent: refused
    const error = await later
    expect(isRateLimitError(error)).toBe(true)
    expect(r.order()).toEqual(['now'])
  })

  it('L1 a call waiting for budget holds no backpressure slot', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 1, windowMs: 1_000, clock })
    const pool = backpressureGuard({ hardLimit: 1 })
    const guard = compose(limit, pool)
    const gate = deferred<string>()
    const running = guard.execute(() => gate.promise)
    const waiting = guard.execute(() => 'after the refill')
    await flush()
    expect(pool.depth).toBe(1) // only the running call
    gate.resolve('done')
    await running
    await clock.advance(1_000)
    expect(await waiting).toBe('after the refill')
    expect(pool.depth).toBe(0)
  })
})
