/**
 * The behaviour every CircuitBackend must show, run through real guards (C1–C6, D6). A backend's
 * test file calls `describeCircuitBackend(name, makeBackend, options)`:
 *
 * - memory: `makeBackend = async (clock) => ({ backend: new InMemoryCircuitBackend({ clock }), cleanup })`;
 *   time is the test clock and the suite advances it.
 * - Redis (time is the server's): return `waitFor: (ms) => sleep(ms)` (a real wait), `clock:
 *   systemClock` for the guards (lease renewal must really run), `settle` that waits until the
 *   backend has applied the reports sent so far, and pass `{ recoveryMs, slackMs }` so the waits stay
 *   short and durations read back may be lower by the time that really passed.
 *
 * Services are unique per test, so one backend (or one Redis server) can serve the whole file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { circuitGuard, type CircuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CircuitBackend, CircuitConfig, StateChange } from '../../src/circuit/circuit-backend.js'
import type { CircuitOptions } from '../../src/circuit/circuit-options.js'
import type { Clock } from '../../src/core/clock.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

export interface BackendHarness {
  backend: CircuitBackend
  /** Closes what `makeBackend` opened. */
  cleanup(): Promise<void>
  /** Lets `ms` of the backend's time pass. Default: `clock.advance(ms)` on the test clock. */
  waitFor?(ms: number): Promise<void>
  /** Clock for the guards the suite builds (durations, lease renewal). Default: the test clock. */
  clock?: Clock
  /**
   * Resolves once the backend has applied every report sent so far and delivered its events
   * (the guard reports off the call path). Default: one macrotask turn.
   */
  settle?(): Promise<void>
}

export interface ContractOptions {
  /** recoveryMs of the suite's breakers; with real time, keep it far above a round trip. Default 1 000. */
  recoveryMs?: number
  /** How much lower a duration read back may be than the one set, for time that really passed. Default 0. */
  slackMs?: number
}

const serverError = (): Error => httpError(503)

export function describeCircuitBackend(
  name: string,
  makeBackend: (clock: TestClock) => Promise<BackendHarness>,
  options: ContractOptions = {},
): void {
  const R = options.recoveryMs ?? 1_000
  const slack = options.slackMs ?? 0
  let n = 0

  describe(`CircuitBackend contract: ${name}`, () => {
    let h: BackendHarness
    let clock: TestClock
    let service: string
    const waitFor = (ms: number): Promise<void> => (h.waitFor ? h.waitFor(ms) : clock.advance(ms))
    const settle = (): Promise<void> => (h.settle ? h.settle() : flush())
    const guard = (o: Partial<CircuitOptions> = {}): CircuitGuard =>
      circuitGuard({
        backend: h.backend,
        clock: h.clock ?? clock,
        threshold: 3,
        recoveryMs: R,
        service,
        ...o,
      })
    /** Runs one call that fails with `error`; returns what it threw, once the backend applied it. */
    const failWith = async (g: CircuitGuard, error: unknown = serverError(), svc = service) => {
      const thrown = await g
        .execute(() => Promise.reject(error), { service: svc })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      await settle()
      return thrown
    }
    const succeed = async (g: CircuitGuard, svc = service) => {
      const value = await g.execute(() => 'ok', { service: svc })
      await settle()
      return value
    }
    const openIt = async (g: CircuitGuard, svc = service) => {
      for (let i = 0; i < g.config.threshold; i++) await failWith(g, serverError(), svc)
      expect(await g.state(svc)).toBe('open')
    }

    beforeEach(async () => {
      clock = testClock(1_000_000)
      h = await makeBackend(clock)
      service = `contract-${name}-${++n}-${Math.random().toString(36).slice(2, 8)}`
    })
    afterEach(async () => {
      await h.cleanup()
    })

    it('C1 opens after threshold consecutive failures; a success in between restarts the count', async () => {
      const g = guard()
      await failWith(g)
      await failWith(g)
      await succeed(g)
      expect(await g.failureCount()).toBe(0)
      await failWith(g)
      await failWith(g)
      expect(await g.state()).toBe('closed')
      expect(await g.failureCount()).toBe(2)
      await failWith(g)
      expect(await g.state()).toBe('open')
    })

    it('C1 failure-rate mode opens when failures reach the ratio over at least minCalls', async () => {
      const g = guard({ threshold: 100, failureRate: { ratio: 0.5, minCalls: 4, windowMs: 10 * R } })
      await failWith(g)
      await succeed(g)
      await failWith(g) // 2 of 3: not enough calls yet
      expect(await g.state()).toBe('closed')
      await succeed(g) // 2 of 4 = 0.5, but a success never opens
      expect(await g.state()).toBe('closed')
      await failWith(g) // 3 of 5 >= 0.5 with 5 >= 4 calls
      expect(await g.state()).toBe('open')
    })

    it('C1 half-open after recoveryMs, closed after halfOpenSuccesses probes', async () => {
      const g = guard({ halfOpenSuccesses: 2 })
      await openIt(g)
      await waitFor(R)
      expect(await g.state()).toBe('half-open')
      await succeed(g)
      expect(await g.state()).toBe('half-open')
      await succeed(g)
      expect(await g.state()).toBe('closed')
      expect(await g.failureCount()).toBe(0)
    })

    it('C1 a failed probe reopens, backing off (doubling with jitter) up to maxRecoveryMs', async () => {
      const g = guard({ maxRecoveryMs: 3 * R })
      await openIt(g)
      const first = (await h.backend.snapshot(service, g.config)).retryAfterMs
      expect(first).toBeGreaterThanOrEqual(R - slack)
      expect(first).toBeLessThanOrEqual(R)
      await waitFor(first)
      await failWith(g) // the probe
      const second = (await h.backend.snapshot(service, g.config)).retryAfterMs
      expect(second).toBeGreaterThanOrEqual(R - slack)
      expect(second).toBeLessThanOrEqual(2 * R)
      await waitFor(second)
      await failWith(g)
      const third = (await h.backend.snapshot(service, g.config)).retryAfterMs
      expect(third).toBeGreaterThanOrEqual(2 * R - slack)
      expect(third).toBeLessThanOrEqual(3 * R) // [2R, 4R] capped at maxRecoveryMs
      await waitFor(third)
      await succeed(g)
      await openIt(g) // closing forgot the backoff: the next opening lasts recoveryMs again
      expect((await h.backend.snapshot(service, g.config)).retryAfterMs).toBeLessThanOrEqual(R)
    })

    it('C2 open: fails fast with BrokenCircuitError(service, retryAfterMs); fn is not called', async () => {
      const g = guard()
      await openIt(g)
      let called = false
      const error = await g
        .execute(() => {
          called = true
        })
        .catch((e: unknown) => e)
      expect(called).toBe(false)
      expect(isBrokenCircuitError(error)).toBe(true)
      expect(error).toMatchObject({ service })
      const retryAfterMs = (error as { retryAfterMs: number }).retryAfterMs
      expect(retryAfterMs).toBeGreaterThan(0)
      expect(retryAfterMs).toBeLessThanOrEqual(R)
    })

    it('C3 half-open admits one probe at a time; others fail fast, never queued behind it', async () => {
      const g = guard()
      await openIt(g)
      await waitFor(R)
      const probe = deferred<string>()
      let probes = 0
      const first = g.execute(() => {
        probes++
        return probe.promise
      })
      await settle()
      const second = await g.execute(() => 'second').catch((e: unknown) => e)
      expect(second).toMatchObject({ service, retryAfterMs: 0 })
      expect(isBrokenCircuitError(second)).toBe(true)
      probe.resolve('probe')
      expect(await first).toBe('probe')
      await settle()
      expect(probes).toBe(1)
      expect(await g.state()).toBe('closed')
    })

    it('C3 a probe whose outcome is ignored (caller abort) releases its lease', async () => {
      const g = guard()
      await openIt(g)
      await waitFor(R)
      const controller = new AbortController()
      const first = g.execute(
        ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        {
          signal: controller.signal,
        },
      )
      await settle()
      controller.abort(new Error('caller left'))
      await expect(first).rejects.toThrow('caller left')
      await settle()
      expect(await g.state()).toBe('half-open')
      expect(await succeed(g)).toBe('ok') // the next caller may probe at once
      expect(await g.state()).toBe('closed')
    })

    it('C3 an expired probe lease frees the probe; the stale prober is not counted', async () => {
      const g = guard({ probeLeaseMs: R })
      const config: CircuitConfig = g.config
      await openIt(g)
      await waitFor(R)
      const a = await h.backend.admit(service, config)
      expect(a.kind).toBe('probe')
      expect((await h.backend.admit(service, config)).kind).toBe('deny')
      await waitFor(R)
      const b = await h.backend.admit(service, config)
      expect(b.kind).toBe('probe')
      await h.backend.record(service, config, { outcome: 'success', token: (a as { token: string }).token })
      expect((await h.backend.snapshot(service, config)).state).toBe('half-open')
      await h.backend.record(service, config, { outcome: 'success', token: (b as { token: string }).token })
      expect((await h.backend.snapshot(service, config)).state).toBe('closed')
    })

    it('C3 renew keeps a probe lease alive; a held probe keeps it until the hold settles', async () => {
      const g = guard({ probeLeaseMs: R })
      await openIt(g)
      await waitFor(R)
      const stream = deferred()
      const held = g.execute((ctx) => {
        ctx.hold(stream.promise)
        return 'stream'
      })
      expect(await held).toBe('stream')
      await waitFor(2 * R) // twice the lease: only renewal keeps it
      const other = await g.execute(() => 'other').catch((e: unknown) => e)
      expect(isBrokenCircuitError(other)).toBe(true)
      stream.reject(serverError()) // the stream fails after content: counted at settlement
      await settle()
      await flush()
      expect(await g.state()).toBe('open')
    })

    it('C4 guards on one backend share a service; other services never interfere', async () => {
      const a = guard()
      const b = guard()
      const otherService = `${service}-other`
      await failWith(a)
      await failWith(b)
      await failWith(a, serverError(), otherService)
      await failWith(b)
      expect(await a.state()).toBe('open')
      expect(await b.state()).toBe('open')
      expect(await a.state(otherService)).toBe('closed')
      expect(await b.failureCount(otherService)).toBe(1)
      expect(await succeed(b, otherService)).toBe('ok')
    })

    it('C5 a 400 proves the provider answered: it resets the consecutive count', async () => {
      const g = guard()
      await failWith(g)
      await failWith(g)
      const bad = httpError(400)
      expect(await failWith(g, bad)).toBe(bad)
      expect(await g.failureCount()).toBe(0)
      await failWith(g)
      await failWith(g)
      expect(await g.state()).toBe('closed')
    })

    it('C6 onStateChange and onReject report transitions and refusals', async () => {
      const g = guard()
      const changes: StateChange[] = []
      const rejects: unknown[] = []
      g.onStateChange((e) => {
        if (e.service === service) changes.push(e)
      })
      g.onReject((e) => rejects.push(e))
      await openIt(g)
      await g.execute(() => 'x').catch(() => undefined)
      await waitFor(R)
      await succeed(g)
      expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
        'closed>open',
        'open>half-open',
        'half-open>closed',
      ])
      expect(rejects).toHaveLength(1)
      expect(rejects[0]).toMatchObject({ service, state: 'open' })
    })

    it('D6 cooldown opens for the given time without counting a failure', async () => {
      const g = guard()
      await failWith(g)
      const limited = httpError(429, { 'retry-after-ms': String(2 * R) })
      expect(await failWith(g, limited)).toBe(limited)
      expect(await g.state()).toBe('open')
      expect(await g.failureCount()).toBe(1)
      const retryAfterMs = (await h.backend.snapshot(service, g.config)).retryAfterMs
      expect(retryAfterMs).toBeGreaterThan(R)
      expect(retryAfterMs).toBeLessThanOrEqual(2 * R)
      await waitFor(retryAfterMs)
      await succeed(g)
      expect(await g.state()).toBe('closed')
    })

    it('C2 isolate forces the breaker open until reset', async () => {
      const g = guard()
      await g.isolate()
      await waitFor(10 * R)
      const error = await g.execute(() => 'x').catch((e: unknown) => e)
      expect(isBrokenCircuitError(error)).toBe(true)
      expect(await g.state()).toBe('open')
      await g.reset()
      expect(await g.state()).toBe('closed')
      expect(await succeed(g)).toBe('ok')
    })
  })
}
