/** Contract rules about states and counting: C1, C2, C4, C5, C6 and the D6 cooldown. */
import { expect, it } from 'vitest'
import type { StateChange } from '../../src/circuit/circuit-backend.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { deferred, httpError } from '../helpers/deferred.js'
import { type ContractContext, serverError } from './contract-context.js'

export function stateContract(t: ContractContext): void {
  it('C1 opens after threshold consecutive failures; a success in between restarts the count', async () => {
    const g = t.guard()
    await t.failWith(g)
    await t.failWith(g)
    await t.succeed(g)
    expect(await g.failureCount()).toBe(0)
    await t.failWith(g)
    await t.failWith(g)
    expect(await g.state()).toBe('closed')
    expect(await g.failureCount()).toBe(2)
    await t.failWith(g)
    expect(await g.state()).toBe('open')
  })

  it('C1 failure-rate mode opens when failures reach the ratio over at least minCalls', async () => {
    const g = t.guard({ threshold: 100, failureRate: { ratio: 0.5, minCalls: 4, windowMs: 10 * t.R } })
    await t.failWith(g)
    await t.succeed(g)
    await t.failWith(g) // 2 of 3: not enough calls yet
    expect(await g.state()).toBe('closed')
    await t.succeed(g) // 2 of 4 = 0.5, but a success never opens
    expect(await g.state()).toBe('closed')
    await t.failWith(g) // 3 of 5 >= 0.5 with 5 >= 4 calls
    expect(await g.state()).toBe('open')
  })

  it('C1 half-open after recoveryMs, closed after halfOpenSuccesses probes', async () => {
    const g = t.guard({ halfOpenSuccesses: 2 })
    await t.openIt(g)
    await t.waitFor(t.R)
    expect(await g.state()).toBe('half-open')
    await t.succeed(g)
    expect(await g.state()).toBe('half-open')
    await t.succeed(g)
    expect(await g.state()).toBe('closed')
    expect(await g.failureCount()).toBe(0)
  })

  it('C1 a failed probe reopens, backing off (doubling with jitter) up to maxRecoveryMs', async () => {
    const g = t.guard({ maxRecoveryMs: 3 * t.R })
    await t.openIt(g)
    const first = (await t.backend.snapshot(t.service, g.config)).retryAfterMs
    expect(first).toBeGreaterThanOrEqual(t.R - t.slack)
    expect(first).toBeLessThanOrEqual(t.R)
    await t.waitFor(first)
    await t.failWith(g) // the probe
    const second = (await t.backend.snapshot(t.service, g.config)).retryAfterMs
    expect(second).toBeGreaterThanOrEqual(t.R - t.slack)
    expect(second).toBeLessThanOrEqual(2 * t.R)
    await t.waitFor(second)
    await t.failWith(g)
    const third = (await t.backend.snapshot(t.service, g.config)).retryAfterMs
    expect(third).toBeGreaterThanOrEqual(2 * t.R - t.slack)
    expect(third).toBeLessThanOrEqual(3 * t.R) // [2R, 4R] capped at maxRecoveryMs
    await t.waitFor(third)
    await t.succeed(g)
    await t.openIt(g) // closing forgot the backoff: the next opening lasts recoveryMs again
    expect((await t.backend.snapshot(t.service, g.config)).retryAfterMs).toBeLessThanOrEqual(t.R)
  })

  it('C2 open: fails fast with BrokenCircuitError(service, retryAfterMs); fn is not called', async () => {
    const g = t.guard()
    await t.openIt(g)
    let called = false
    const error = await g
      .execute(() => {
        called = true
      })
      .catch((e: unknown) => e)
    expect(called).toBe(false)
    expect(isBrokenCircuitError(error)).toBe(true)
    expect(error).toMatchObject({ service: t.service })
    const retryAfterMs = (error as { retryAfterMs: number }).retryAfterMs
    expect(retryAfterMs).toBeGreaterThan(0)
    expect(retryAfterMs).toBeLessThanOrEqual(t.R)
  })

  it('C4 guards on one backend share a service; other services never interfere', async () => {
    const a = t.guard()
    const b = t.guard()
    const otherService = `${t.service}-other`
    await t.failWith(a)
    await t.failWith(b)
    await t.failWith(a, serverError(), otherService)
    await t.failWith(b)
    expect(await a.state()).toBe('open')
    expect(await b.state()).toBe('open')
    expect(await a.state(otherService)).toBe('closed')
    expect(await b.failureCount(otherService)).toBe(1)
    expect(await t.succeed(b, otherService)).toBe('ok')
  })

  it('C5 a 400 proves the provider answered: it resets the consecutive count', async () => {
    const g = t.guard()
    await t.failWith(g)
    await t.failWith(g)
    const bad = httpError(400)
    expect(await t.failWith(g, bad)).toBe(bad)
    expect(await g.failureCount()).toBe(0)
    await t.failWith(g)
    await t.failWith(g)
    expect(await g.state()).toBe('closed')
  })

  it('C6 onStateChange and onReject report transitions and refusals', async () => {
    const g = t.guard()
    const changes: StateChange[] = []
    const rejects: unknown[] = []
    g.onStateChange((e) => {
      if (e.service === t.service) changes.push(e)
    })
    g.onReject((e) => rejects.push(e))
    await t.openIt(g)
    await g.execute(() => 'x').catch(() => undefined)
    await t.waitFor(t.R)
    await t.succeed(g)
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>closed',
    ])
    expect(rejects).toHaveLength(1)
    expect(rejects[0]).toMatchObject({ service: t.service, state: 'open' })
  })

  it('D6 cooldown holds calls back for the given time without counting a failure', async () => {
    const g = t.guard()
    await t.failWith(g)
    const limited = httpError(429, { 'retry-after-ms': String(2 * t.R) })
    expect(await t.failWith(g, limited)).toBe(limited)
    expect(await g.state()).toBe('open')
    expect(await g.failureCount()).toBe(1)
    const refused = await g.execute(() => 'x').catch((e: unknown) => e)
    expect(isBrokenCircuitError(refused)).toBe(true)
    expect(refused).toMatchObject({ reason: 'cooldown' })
    const retryAfterMs = (refused as { retryAfterMs: number }).retryAfterMs
    expect(retryAfterMs).toBeGreaterThan(t.R)
    expect(retryAfterMs).toBeLessThanOrEqual(2 * t.R)
    await t.waitFor(retryAfterMs)
    expect(await g.state()).toBe('closed')
    expect(await g.failureCount()).toBe(1)
  })

  it('D6 when a cooldown ends the service is closed: every waiting caller goes through at once', async () => {
    const g = t.guard()
    const changes: string[] = []
    g.onStateChange((e) => {
      if (e.service === t.service) changes.push(`${e.from}>${e.to}`)
    })
    await t.failWith(g, httpError(429, { 'retry-after-ms': String(t.R) }))
    await t.waitFor(t.R)
    // Ten callers arrive together, each still running when the next is admitted: no probe gate.
    const gates = Array.from({ length: 10 }, () => deferred<string>())
    let ran = 0
    const calls = gates.map((gate) =>
      g.execute(() => {
        ran++
        return gate.promise
      }),
    )
    await t.settle()
    for (const gate of gates) gate.resolve('ok')
    expect(await Promise.all(calls)).toEqual(gates.map(() => 'ok'))
    expect(ran).toBe(10)
    await t.settle()
    expect(changes).toEqual(['closed>open', 'open>closed'])
  })

  it('D6 a cooldown during an outage keeps the outage: it still recovers through one probe', async () => {
    const g = t.guard()
    await t.openIt(g)
    const before = (await t.backend.snapshot(t.service, g.config)).retryAfterMs
    await t.backend.cooldown(t.service, g.config, before + t.R)
    await t.waitFor(before + t.R)
    expect(await g.state()).toBe('half-open')
    const probe = deferred<string>()
    const first = g.execute(() => probe.promise)
    await t.settle()
    const second = await g.execute(() => 'x').catch((e: unknown) => e)
    expect(second).toMatchObject({ reason: 'half-open' })
    probe.resolve('ok')
    expect(await first).toBe('ok')
    await t.settle()
    expect(await g.state()).toBe('closed')
  })

  it('C2 isolate forces the breaker open until reset', async () => {
    const g = t.guard()
    await g.isolate()
    await t.waitFor(10 * t.R)
    const error = await g.execute(() => 'x').catch((e: unknown) => e)
    expect(isBrokenCircuitError(error)).toBe(true)
    expect(await g.state()).toBe('open')
    await g.reset()
    expect(await g.state()).toBe('closed')
    expect(await t.succeed(g)).toBe('ok')
  })
}
