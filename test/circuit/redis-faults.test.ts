/**
 * D5: Redis slow, dead or misconfigured. Real faults on a real server (SIGSTOP, SIGKILL, ACL);
 * real time only for the command timeout and the background check (tens of ms).
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { InMemoryCircuitBackend } from '../../src/circuit/backends/memory-backend.js'
import type { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import { circuitGuard, type CircuitGuard } from '../../src/circuit/circuit-guard.js'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { closeClient, freePort, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { backendFactory, linesWith, memoryLogger, sleep } from './redis-fixtures.js'

let server: RedisServer
const backends = backendFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => backends.closeAll())

const unavailable = (): Promise<never> =>
  Promise.reject(Object.assign(new Error('upstream down'), { status: 503 }))

/** Runs one call through the guard; returns what it threw (or 'ok') and how long it took. */
async function timed(g: CircuitGuard, fn: () => unknown): Promise<{ result: unknown; ms: number }> {
  const started = performance.now()
  const result = await g.execute(fn).then(
    () => 'ok',
    (e: unknown) => e,
  )
  return { result, ms: performance.now() - started }
}

function nextBackendState(b: RedisCircuitBackend, to: 'redis' | 'fallback'): Promise<void> {
  return new Promise((resolve) => {
    const d = b.onBackendStateChange((e) => {
      if (e.to === to) {
        d.dispose()
        resolve()
      }
    })
  })
}

/** Every error a caller saw is the provider's own or a BrokenCircuitError: never a Redis error. */
function expectNoRedisError(results: unknown[]): void {
  for (const r of results) {
    if (r === 'ok') continue
    expect(r === undefined || isBrokenCircuitError(r) || (r as Error).message === 'upstream down').toBe(true)
  }
}

describe('Redis backend faults (D5, D7)', () => {
  it('D5 a paused (hung) Redis: calls keep flowing on the local breaker, each settling within the command timeout', async () => {
    const logger = memoryLogger()
    const b = backends.make({ commandTimeoutMs: 80, failureThreshold: 2, recoveryCheckMs: 50, logger })
    await b.ready()
    const g = circuitGuard({ backend: b, threshold: 3, recoveryMs: 5_000, service: 'svc' })
    expect((await timed(g, () => 'ok')).result).toBe('ok')
    const fellBack = nextBackendState(b, 'fallback')
    server.pause()
    const results: unknown[] = []
    try {
      for (let i = 0; i < 8; i++) {
        const { result, ms } = await timed(g, unavailable)
        results.push(result)
        expect(ms).toBeLessThan(80 + 60) // never stuck behind Redis longer than the command timeout
      }
      await fellBack
    } finally {
      server.resume()
    }
    expectNoRedisError(results)
    // The local breaker, fed all along, opened after its threshold: the provider was spared.
    expect(results.slice(0, 3).every((r) => (r as Error).message === 'upstream down')).toBe(true)
    expect(results.slice(3).every(isBrokenCircuitError)).toBe(true)
    expect(b.backendState).toBe('fallback')
    expect(logger.lines.filter((l) => l.includes('unusable'))).toHaveLength(1) // once per transition
    await nextBackendState(b, 'redis') // the background check, not live traffic, brings it back
    expect(logger.lines.filter((l) => l.includes('reachable again'))).toHaveLength(1)
  })

  it('D5 D7 kill + restart: the local breaker answers, the background check returns to Redis, the open state the restart lost is re-asserted, and while returning a call is denied if either breaker is open', async () => {
    // The local breaker runs on a test clock: it stays open until the test moves it on, however
    // long the restart takes.
    const localClock = testClock(0)
    const b = backends.make({
      commandTimeoutMs: 100,
      failureThreshold: 1,
      recoveryCheckMs: 30,
      localBackend: new InMemoryCircuitBackend({ clock: localClock }),
    })
    await b.ready()
    const g = circuitGuard({ backend: b, threshold: 2, recoveryMs: 150, service: 'svc' })
    expect((await timed(g, () => 'ok')).result).toBe('ok')
    const fellBack = nextBackendState(b, 'fallback')
    await server.kill()
    const results: unknown[] = []
    for (let i = 0; i < 4; i++) results.push((await timed(g, unavailable)).result)
    await fellBack
    expectNoRedisError(results)
    expect(results.slice(2).every(isBrokenCircuitError)).toBe(true)

    const back = nextBackendState(b, 'redis')
    await server.restart() // empty: the shared breaker's state is lost
    await back
    await b.whenIdle()
    // This process's breaker knows the provider is failing: the fleet's breaker is not closed again
    // (open for what the local breaker had left, or half-open once that ran out on the server).
    expect((await b.snapshot('svc', g.config)).state).not.toBe('closed')
    expect(await server.client().hget(breakerKey(backends.prefix, 'svc'), 'st')).not.toBeNull()
    let calls = 0
    const denied = await timed(g, () => ++calls)
    expect(isBrokenCircuitError(denied.result)).toBe(true) // the local breaker is still open
    expect(calls).toBe(0)
    await localClock.advance(150) // the local open period runs out…
    await sleep(160) // …and the re-asserted one in Redis (at most as long) too
    expect((await timed(g, () => ++calls)).result).toBe('ok') // the local probe, admitted by Redis too
    expect((await timed(g, () => ++calls)).result).toBe('ok')
    expect(calls).toBe(2)
    expect(await g.state()).toBe('closed')
  })

  it("D5 onBackendFailure 'allow' and 'deny' decide for every call while Redis is unreachable", async () => {
    const port = await freePort() // nothing listens there
    const dead = (): Redis => {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null })
      client.on('error', () => {})
      return client
    }
    const allow = backends.make({ client: dead(), onBackendFailure: 'allow' })
    const deny = backends.make({ client: dead(), onBackendFailure: 'deny', recoveryCheckMs: 2_000 })
    await expect(allow.ready()).rejects.toThrow(/unreachable/)
    await expect(deny.ready()).rejects.toThrow(/unreachable/)
    const open = circuitGuard({ backend: allow, threshold: 1, recoveryMs: 1_000, service: 'svc' })
    const shut = circuitGuard({ backend: deny, threshold: 1, recoveryMs: 1_000, service: 'svc' })
    expect((await timed(open, unavailable)).result).toMatchObject({ message: 'upstream down' })
    expect((await timed(open, () => 'ok')).result).toBe('ok')
    const refused = (await timed(shut, () => 'ok')).result
    expect(isBrokenCircuitError(refused)).toBe(true)
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBe(2_000)
  })

  it('D5 ready() rejects when Redis refuses the scripts (NOPERM)', async () => {
    const admin = server.client()
    await admin.acl('SETUSER', 'limited', 'on', '>secret', '~*', '&*', '+@all', '-evalsha', '-eval')
    const b = backends.make({
      client: server.client({ lazyConnect: true, username: 'limited', password: 'secret' }),
    })
    await expect(b.ready()).rejects.toThrow(/not usable.*NOPERM/s)
    await admin.acl('DELUSER', 'limited')
    await closeClient(admin)
  })

  it("D7 FLUSHALL while open: the open state is re-asserted from a process's own breaker (even one that only learned of it), so the fleet's breaker stays open", async () => {
    const clock = testClock(0)
    const la = memoryLogger()
    const lb = memoryLogger()
    const a = backends.make({ clock, logger: la, maxCacheAgeMs: 1_000 })
    const b = backends.make({ clock, logger: lb, maxCacheAgeMs: 1_000 })
    const options = { clock, threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000, service: 'svc' }
    const ga = circuitGuard({ backend: a, ...options })
    const gb = circuitGuard({ backend: b, ...options })
    const admin = server.client()
    const key = breakerKey(backends.prefix, 'svc')
    expect(await gb.execute(() => 'ok')).toBe('ok') // b watches the service
    await b.whenIdle()
    const opened = new Promise<void>((resolve) => {
      const d = b.onStateChange((e) => {
        if (e.to === 'open') resolve(d.dispose())
      })
    })
    const results: unknown[] = []
    for (let i = 0; i < 2; i++) results.push(await ga.execute(unavailable).catch((e: unknown) => e))
    await opened // b learned it by message: its own breaker saw no failure
    await admin.flushall()
    expect(await admin.exists(key)).toBe(0)
    await clock.advance(1_001) // the cached states are too old to answer alone: the next calls ask Redis
    results.push(await gb.execute(() => 'x').catch((e: unknown) => e))
    results.push(await ga.execute(() => 'x').catch((e: unknown) => e))
    expectNoRedisError(results)
    expect(results.slice(2).every((r) => isBrokenCircuitError(r) && r.reason === 'open')).toBe(true)
    expect(await admin.hget(key, 'st')).toBe('open')
    expect(await ga.state()).toBe('open')
    expect(await gb.state()).toBe('open')
    // Re-asserted once, by the first process that noticed; the other found it already there.
    expect([...linesWith(la, 're-asserted'), ...linesWith(lb, 're-asserted')]).toHaveLength(1)
    expect(linesWith(lb, 're-asserted')).toHaveLength(1)
    expect(a.backendState).toBe('redis')
    expect(b.backendState).toBe('redis')
    await closeClient(admin)
  })

  it('D4 D7 a probe granted to an admit whose reply came too late is handed back as soon as Redis answers again', async () => {
    const a = backends.make({ commandTimeoutMs: 80, failureThreshold: 5 })
    const b = backends.make()
    const admin = server.client()
    const key = breakerKey(backends.prefix, 'svc')
    const c = {
      threshold: 1,
      recoveryMs: 100,
      maxRecoveryMs: 100,
      halfOpenSuccesses: 1,
      probeLeaseMs: 60_000,
    }
    await a.ready()
    await b.record('svc', c, { outcome: 'failure' })
    await sleep(110) // half-open on the server
    // Writes wait while paused: a's admit times out on the client, then runs on the server.
    await admin.client('PAUSE', '400', 'WRITE')
    expect(await a.admit('svc', c)).toEqual({ kind: 'allow' }) // answered by the local breaker
    // When the pause ends the script runs: a probe nobody will report on.
    await expect.poll(() => admin.hget(key, 'tok'), { timeout: 5_000 }).toMatch(/.+/)
    await a.snapshot('svc', c) // any answered command hands it back
    await a.whenIdle()
    expect(await admin.hget(key, 'tok')).toBe('')
    expect((await b.admit('svc', c)).kind).toBe('probe') // the next caller probes at once, not in a minute
    await closeClient(admin)
  })
})
