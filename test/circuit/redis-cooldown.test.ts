/** D6 on a real redis-server: a provider cooldown shared by the fleet, ended by each process from its cache. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Admission } from '../../src/circuit/circuit-backend.js'
import { testClock } from '../../src/testing/test-clock.js'
import { closeClient, commandStats, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { backendFactory, config, nextChange, warm } from './redis-fixtures.js'

let server: RedisServer
const backends = backendFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => backends.closeAll())

describe('Redis circuit backend: cooldowns (D6)', () => {
  it('D6 cooldown opens the service across the fleet without counting a failure', async () => {
    const a = backends.make()
    const b = backends.make()
    const c = config({ threshold: 3, maxRecoveryMs: 60_000 })
    await a.record('svc', c, { outcome: 'failure' })
    await a.cooldown('svc', c, 30_000)
    const seen = (await b.admit('svc', c)) as Admission & { retryAfterMs: number }
    expect(seen).toMatchObject({ kind: 'deny', state: 'open' })
    expect(seen.retryAfterMs).toBeGreaterThan(29_000)
    expect(await b.snapshot('svc', c)).toMatchObject({ state: 'open', failures: 1 })
    await a.cooldown('svc', c, 10_000) // a shorter cooldown never shortens an open period
    expect(((await b.snapshot('svc', c)) as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(25_000)
  })

  it('D6 a cooldown learned in one process reaches the others; when it ends every process admits at once, with no round trip and no denial', async () => {
    // Time on the processes' side is a test clock: only the cache decides when the cooldown ends.
    const clock = testClock(0)
    const a = backends.make({ clock })
    const b = backends.make({ clock })
    const redis = server.client()
    const c = config({ threshold: 3, recoveryMs: 60_000, maxRecoveryMs: 60_000 })
    await warm(a, 'svc', c)
    await warm(b, 'svc', c)
    const changes: string[] = []
    b.onStateChange((e) => void changes.push(`${e.from}>${e.to}`))
    const learned = nextChange(b, 'svc', 'open')
    await a.cooldown('svc', c, 3_000) // shorter than maxCacheAgeMs: the cached states stay usable
    await learned // over pub/sub
    const denials = [a.admit('svc', c), b.admit('svc', c)] as (Admission & { retryAfterMs: number })[]
    for (const d of denials) {
      expect(d).toMatchObject({ kind: 'deny', state: 'open', cooldown: true })
      expect(d.retryAfterMs).toBeGreaterThan(2_000)
    }
    await clock.advance(Math.max(...denials.map((d) => d.retryAfterMs)))
    const before = await commandStats(redis)
    for (let i = 0; i < 50; i++) {
      expect(a.admit('svc', c)).toEqual({ kind: 'allow' })
      expect(b.admit('svc', c)).toEqual({ kind: 'allow' })
    }
    const after = await commandStats(redis)
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(0)
    expect(changes).toEqual(['closed>open', 'open>closed'])
    await closeClient(redis)
  })

  it('D6 waiters meeting a stale cached cooldown share one admit round trip per process', async () => {
    const clock = testClock(0)
    const b = backends.make({ clock, maxCacheAgeMs: 100 })
    const redis = server.client()
    const c = config({ maxRecoveryMs: 60_000 })
    await warm(b, 'svc', c)
    await b.cooldown('svc', c, 30_000)
    await clock.advance(101) // the cached state is too old to answer alone
    const before = await commandStats(redis)
    const answers = await Promise.all(Array.from({ length: 20 }, () => b.admit('svc', c)))
    const after = await commandStats(redis)
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(1)
    for (const answer of answers)
      expect(answer).toMatchObject({ kind: 'deny', state: 'open', cooldown: true })
    await closeClient(redis)
  })
})
