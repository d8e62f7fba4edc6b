import { describe, expect, it } from 'vitest'
import { BrokenCircuitError, isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { deferred, httpError } from '../helpers/deferred.js'
import { fail, openIt, outcome, R, retryAfter, setup, succeed } from './guard-kit.js'

describe('C1 closed → open → half-open → closed', () => {
  it('C1 opens after threshold consecutive failures, not before', async () => {
    const { g } = setup()
    await fail(g)
    await fail(g)
    expect([await g.state(), await g.failureCount()]).toEqual(['closed', 2])
    await fail(g)
    expect(await g.state()).toBe('open')
  })

  it('C1 failure rate counts only the last windowMs and needs minCalls', async () => {
    const { g, clock } = setup({ threshold: 100, failureRate: { ratio: 0.6, minCalls: 5, windowMs: 10_000 } })
    await fail(g)
    await fail(g)
    await fail(g)
    await clock.advance(10_000) // those three slide out of the window
    await succeed(g)
    await succeed(g)
    await fail(g)
    await fail(g)
    expect(await g.state()).toBe('closed') // 2 of 4: below minCalls and below the ratio
    await fail(g) // 3 of 5 = 0.6
    expect(await g.state()).toBe('open')
  })

  it('C1 turns half-open exactly after recoveryMs and a successful probe closes it', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R - 1)
    expect(await g.state()).toBe('open')
    await clock.advance(1)
    expect(await g.state()).toBe('half-open')
    expect(await succeed(g)).toBe('ok:ok')
    expect([await g.state(), await g.failureCount()]).toEqual(['closed', 0])
  })

  it('C1 repeated opens back off: recoveryMs · 2^k with equal jitter, capped at maxRecoveryMs', async () => {
    const opens = async (random: () => number): Promise<number[]> => {
      const { g, clock } = setup({ maxRecoveryMs: 5 * R, random })
      await openIt(g)
      const seen = [await retryAfter(g)]
      for (let i = 0; i < 4; i++) {
        await clock.advance(seen[seen.length - 1]!)
        await fail(g) // the probe fails
        seen.push(await retryAfter(g))
      }
      return seen
    }
    expect(await opens(() => 0.75)).toEqual([R, 1.75 * R, 3.5 * R, 5 * R, 5 * R])
    expect(await opens(() => 0)).toEqual([R, R, 2 * R, 4 * R, 5 * R])
    expect(await opens(() => 0.5)).toEqual([R, 1.5 * R, 3 * R, 5 * R, 5 * R])
  })

  it('C1 halfOpenSuccesses probes, one at a time, close it; a failed one reopens it', async () => {
    const { g, clock } = setup({ halfOpenSuccesses: 2, random: () => 0.5 })
    await openIt(g)
    await clock.advance(R)
    await succeed(g)
    expect(await g.state()).toBe('half-open')
    await fail(g)
    expect([await g.state(), await retryAfter(g)]).toEqual(['open', 1.5 * R])
    await clock.advance(1.5 * R)
    await succeed(g)
    await succeed(g)
    expect(await g.state()).toBe('closed')
  })
})

describe('C2 open fails fast', () => {
  it('C2 rejects with BrokenCircuitError(service, retryAfterMs) without calling fn', async () => {
    const { g, clock } = setup({ service: 'openai:gpt' })
    for (let i = 0; i < 3; i++) await fail(g)
    await clock.advance(400)
    let calls = 0
    const error = await outcome(g.execute(() => calls++))
    expect(calls).toBe(0)
    expect(error).toBeInstanceOf(BrokenCircuitError)
    expect(error).toMatchObject({ service: 'openai:gpt', retryAfterMs: R - 400 })
  })

  it('C2 an isolated breaker stays open with an infinite retryAfterMs until reset', async () => {
    const { g, clock } = setup()
    await g.isolate()
    await clock.advance(1_000 * R)
    const error = await succeed(g)
    expect(error).toMatchObject({ retryAfterMs: Number.POSITIVE_INFINITY })
    expect(String(error)).toMatch(/isolated/)
    await g.reset()
    expect(await succeed(g)).toBe('ok:ok')
  })
})

describe('C3 one probe at a time', () => {
  it('C3 a second caller fails fast while the probe is pending', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R)
    const order: string[] = []
    const probe = deferred<string>()
    const first = g.execute(() => probe.promise).then((v) => order.push(`probe ${v}`))
    const second = g
      .execute(() => 'second')
      .catch((e: unknown) => {
        order.push(isBrokenCircuitError(e) ? `rejected ${e.retryAfterMs}` : 'other')
      })
    await second
    expect(order).toEqual(['rejected 0'])
    probe.resolve('ok')
    await first
    expect(order).toEqual(['rejected 0', 'probe ok'])
    expect(await g.state()).toBe('closed')
  })

  it('C3 a probe ignored by classification (429 without Retry-After) releases its lease', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R)
    expect(await fail(g, httpError(429))).toMatchObject({ status: 429 })
    expect(await g.state()).toBe('half-open')
    let ran = false
    await g.execute(() => (ran = true))
    expect([ran, await g.state()]).toEqual([true, 'closed'])
  })

  it('C3 an expired lease lets the next caller probe; the late prober does not count', async () => {
    const { g, clock } = setup({ probeLeaseMs: 5_000 })
    await openIt(g)
    await clock.advance(R)
    const hung = deferred<string>()
    const first = g.execute(() => hung.promise)
    await clock.advance(5_000)
    const second = deferred<string>()
    const next = g.execute(() => second.promise)
    hung.reject(httpError(500)) // the stale probe's failure is not counted
    await outcome(first)
    expect(await g.state()).toBe('half-open')
    second.resolve('fine')
    expect(await next).toBe('fine')
    expect(await g.state()).toBe('closed')
  })
})
