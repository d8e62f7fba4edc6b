/**
 * llmGuard's `rateLimit` option: off unless given; inside retry and outside backpressure, so each
 * attempt takes from the budget, a call waiting for budget holds no slot, and a call that never
 * reached the provider (shed, refused by the breaker) gives its take back.
 */
import { describe, expect, it } from 'vitest'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { RateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

/** A budget that does not refill while the test clock stays put: counts are exact. */
const SLOW = { windowMs: 3_600_000 }

describe('L1 llmGuard({ rateLimit })', () => {
  it('L1 is off unless given; given, it sits inside retry and outside backpressure, reachable as .rateLimit', () => {
    expect(llmGuard().rateLimit).toBeUndefined()
    expect(llmGuard({ rateLimit: false }).guards.map((g) => g.name)).not.toContain('rateLimit')
    const guard = llmGuard({ service: 'openai:gpt-4o', rateLimit: { requests: 10 } })
    expect(guard.guards.map((g) => g.name)).toEqual([
      'dedupe',
      'retry',
      'rateLimit',
      'backpressure',
      'circuit',
      'timeout',
    ])
    expect(guard.rateLimit).toBeInstanceOf(RateLimitGuard)
    expect(guard.guards[2]).toBe(guard.rateLimit)
    expect(guard.rateLimit!.budget).toEqual({ requests: 10, tokens: undefined, windowMs: 60_000 })
  })

  it('L5 a bad rateLimit option is refused, naming it', () => {
    expect(() => llmGuard({ rateLimit: 5 as never })).toThrow(TypeError)
    expect(() => llmGuard({ rateLimit: 5 as never })).toThrow(/"rateLimit"/)
    expect(() => llmGuard({ rateLimit: { requests: -1 } })).toThrow(RangeError)
    expect(() => llmGuard({ rateLimit: { requests: -1 } })).toThrow(/"requests"/)
  })

  it('L1 a call waiting for budget holds no backpressure slot: a call to another service runs meanwhile', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      rateLimit: { requests: 1, windowMs: 1_000 },
      backpressure: { hardLimit: 1, maxQueue: 0 },
    })
    await guard.execute(() => 'first', { service: 'a' })
    let waited = false
    const waiting = guard.execute(
      () => {
        waited = true
        return 'second'
      },
      { service: 'a' },
    )
    await flush()
    expect(waited).toBe(false)
    expect(guard.backpressure!.depth).toBe(0)
    // With a hard limit of 1 and no queue, this would be shed if the waiting call held the slot.
    const other = deferred<string>()
    const running = guard.execute(() => other.promise, { service: 'b' })
    await flush()
    expect(guard.backpressure!.depth).toBe(1)
    other.resolve('other')
    expect(await running).toBe('other')
    await clock.advance(1_000)
    expect(await waiting).toBe('second')
    expect(waited).toBe(true)
  })

  it('L1 each attempt of a retried call takes from the budget; the retry waits for it holding nothing', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      retry: { baseDelayMs: 0 },
      rateLimit: { requests: 1, windowMs: 1_000 },
      backpressure: { hardLimit: 1, maxQueue: 0 },
    })
    const attempts: number[] = []
    const call = guard.execute((ctx) => {
      attempts.push(clock.now())
      if (ctx.attempt === 1) throw httpError(503)
      return 'ok'
    })
    await flush()
    await flush()
    // The retry is due at once but the budget's one request went to the first attempt.
    expect(attempts).toEqual([0])
    expect(guard.backpressure!.depth).toBe(0)
    await clock.advance(1_000)
    expect(await call).toBe('ok')
    expect(attempts).toEqual([0, 1_000])
  })

  it('L1 a call shed by backpressure gives its take back', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      rateLimit: { requests: 3, ...SLOW },
      backpressure: { hardLimit: 1, maxQueue: 0 },
    })
    const gate = deferred<string>()
    const running = guard.execute(() => gate.promise)
    await flush()
    const shed = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(isBackpressureShedError(shed)).toBe(true)
    expect((await guard.rateLimit!.remaining()).requests).toBe(2)
    gate.resolve('done')
    expect(await running).toBe('done')
  })

  it('L1 a call refused by an open breaker gives its take back', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      retry: false,
      rateLimit: { requests: 3, ...SLOW },
      circuit: { threshold: 1, recoveryMs: 10_000 },
    })
    await guard.execute(() => Promise.reject(httpError(503))).catch(() => {}) // reached the provider
    const refused = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(isBrokenCircuitError(refused)).toBe(true)
    expect((await guard.rateLimit!.remaining()).requests).toBe(2)
  })

  it('L1 callers joined by dedupe take once: only the shared call reaches the budget', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, rateLimit: { requests: 3, ...SLOW } })
    const gate = deferred<string>()
    const calls = [1, 2, 3].map(() => guard.execute(() => gate.promise, { key: 'same' }))
    await flush()
    gate.resolve('shared')
    expect(await Promise.all(calls)).toEqual(['shared', 'shared', 'shared'])
    expect((await guard.rateLimit!.remaining()).requests).toBe(2)
  })
})
