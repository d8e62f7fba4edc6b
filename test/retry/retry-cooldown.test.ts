/** R7: Retry-After waits are spread; a cooldown refusal that fits is waited out, not thrown. */
import { describe, expect, it } from 'vitest'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { BrokenCircuitError, isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { seededRandom } from '../../src/testing/seeded-random.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { httpError } from '../helpers/deferred.js'

describe('R7 spread of Retry-After waits', () => {
  it('R7 waiters of one Retry-After are spread: never earlier than told, at most 10 % later', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, clock, random: seededRandom(7) })
    const retriedAt: number[] = []
    const calls = Array.from({ length: 50 }, () => {
      let attempts = 0
      return guard.execute(() => {
        if (++attempts === 1) return Promise.reject(httpError(429, { 'retry-after-ms': '1000' }))
        retriedAt.push(clock.now())
        return 'ok'
      })
    })
    await clock.advance(2_000)
    expect(await Promise.all(calls)).toHaveLength(50)
    expect(Math.min(...retriedAt)).toBeGreaterThanOrEqual(1_000)
    expect(Math.max(...retriedAt)).toBeLessThanOrEqual(1_100)
    // Spread, not lined up in one millisecond.
    expect(new Set(retriedAt.map((t) => Math.floor(t))).size).toBeGreaterThan(25)
  })

  it('R7 the spread never exceeds the cap, and a wait of 0 stays 0', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, clock, maxDelayMs: 1_000, random: () => 0.99 })
    const delays: number[] = []
    guard.onRetry((e) => delays.push(e.delayMs))
    for (const asked of ['1000', '0']) {
      let attempts = 0
      const call = guard.execute(() =>
        ++attempts === 1 ? Promise.reject(httpError(429, { 'retry-after-ms': asked })) : 'ok',
      )
      await clock.advance(1_000)
      await call
    }
    expect(delays).toEqual([1_000, 0])
  })
})

describe('R7 cooldown refusals', () => {
  /** A breaker and a retry in front of it, on one test clock. */
  function setup(retry: Partial<Parameters<typeof retryGuard>[0]> = {}) {
    const clock = testClock()
    const circuit = circuitGuard({ threshold: 5, recoveryMs: 30_000, clock, service: 'svc' })
    const r = retryGuard({ maxAttempts: 3, clock, random: () => 0, ...retry })
    return { clock, circuit, retry: r, guard: compose(r, circuit) }
  }

  it('R7 a retry that meets a cooldown waits it out instead of throwing', async () => {
    const { clock, circuit, guard } = setup()
    // Another caller's 429 put the service in a cooldown of 200 ms.
    await circuit.execute(() => Promise.reject(httpError(429, { 'retry-after-ms': '200' }))).catch(() => {})
    let ran = 0
    const call = guard.execute(() => {
      ran++
      return 'answer'
    })
    await clock.advance(199)
    expect(ran).toBe(0)
    await clock.advance(1)
    expect(await call).toBe('answer')
    expect(ran).toBe(1)
  })

  it('R7 a cooldown wait spends no attempt and no retry budget', async () => {
    const budget = retryBudget({ ratio: 0.0001, minPerSecond: 0.0001, clock: testClock() })
    const { clock, circuit, guard, retry } = setup({ maxAttempts: 1, budget })
    const waits: number[] = []
    retry.onCooldownWait((e) => waits.push(e.delayMs))
    await circuit.execute(() => Promise.reject(httpError(429, { 'retry-after-ms': '100' }))).catch(() => {})
    const call = guard.execute(() => 'answer')
    await clock.advance(100)
    // maxAttempts 1 and an empty budget: only a wait that is not a retry lets this through.
    expect(await call).toBe('answer')
    expect(waits).toEqual([100])
  })

  it('R7 a cooldown longer than the retry may wait is thrown at once, naming the cooldown', async () => {
    const { circuit, guard, retry } = setup({ maxDelayMs: 1_000 })
    const giveUps: string[] = []
    retry.onGiveUp((e) => giveUps.push(e.stoppedBy))
    await circuit.execute(() => Promise.reject(httpError(429, { 'retry-after-ms': '5000' }))).catch(() => {})
    const error = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(isBrokenCircuitError(error)).toBe(true)
    expect(error).toMatchObject({ reason: 'cooldown' })
    expect(giveUps).toEqual(['retry_after_too_long'])
  })

  it('R7 a cooldown that would outlast the total deadline is thrown at once', async () => {
    const clock = testClock()
    const circuit = circuitGuard({ threshold: 5, recoveryMs: 30_000, clock, service: 'svc' })
    const guard = compose(
      timeoutGuard({ totalMs: 500, clock }),
      retryGuard({ maxAttempts: 3, clock }),
      circuit,
    )
    await circuit.execute(() => Promise.reject(httpError(429, { 'retry-after-ms': '800' }))).catch(() => {})
    const error = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BrokenCircuitError)
    expect(clock.now()).toBe(0)
  })

  it('R7 an outage refusal is never waited out: it fails fast', async () => {
    const { clock, circuit, guard } = setup()
    await circuit.isolate()
    const isolated = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(isolated).toMatchObject({ reason: 'isolated' })
    await circuit.reset()
    for (let i = 0; i < 5; i++) await circuit.execute(() => Promise.reject(httpError(503))).catch(() => {})
    const open = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(open).toMatchObject({ reason: 'open' })
    expect(clock.pending).toBe(0)
  })

  it('R7 an abort during a cooldown wait rejects at once with the reason', async () => {
    const { circuit, guard, clock } = setup()
    await circuit.execute(() => Promise.reject(httpError(429, { 'retry-after-ms': '1000' }))).catch(() => {})
    const controller = new AbortController()
    const call = guard.execute(() => 'never', { signal: controller.signal })
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(call).rejects.toBe(reason)
    expect(clock.pending).toBe(0)
  })
})
