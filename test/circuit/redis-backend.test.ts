/**
 * D1–D4, D6 against a real redis-server (one per file, one key prefix per test). Real time is used
 * only where the server must act (open periods and leases expire on Redis time): ~100–200 ms.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import type { Admission } from '../../src/circuit/circuit-backend.js'
import { systemClock } from '../../src/core/clock.js'
import { testClock } from '../../src/testing/test-clock.js'
import { closeClient, commandStats, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { backendFactory, config, isPromise, memoryLogger, nextChange, sleep, warm } from './redis-fixtures.js'

let server: RedisServer
const backends = backendFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => backends.closeAll())

describe('Redis circuit backend', () => {
  it('D1 one hash per service under <prefix>:cb:{service}, braces escaped, PEXPIRE refreshed on every write', async () => {
    const b = backends.make({ keyTtlMs: 60_000 })
    const redis = server.client()
    const c = config()
    const service = 'openai:{gpt}%'
    const key = `${backends.prefix}:cb:{openai:%7Bgpt%7D%25}`
    expect(breakerKey(backends.prefix, service)).toBe(key)
    await b.record(service, c, { outcome: 'failure' })
    const hash = await redis.hgetall(key)
    expect(hash).toMatchObject({ st: 'closed', fl: '1', cfg: '1,3,150,1000,1,100,0,0,0' })
    expect(Object.keys(hash).some((f) => /time|now|at$/.test(f))).toBe(false)
    expect(await redis.keys(`${backends.prefix}*`)).toEqual([key])
    await redis.pexpire(key, 5_000)
    await b.record(service, c, { outcome: 'failure' })
    expect(await redis.pttl(key)).toBeGreaterThan(55_000)
    expect(() => backends.make({ prefix: 'bad{prefix}' })).toThrow(RangeError)
    expect(() => backends.make({ prefix: 'bad{prefix}' })).toThrow(/prefix.*bad\{prefix\}/)
    await closeClient(redis)
  })

  it('D1 a different configuration for the same service is reported, not mixed', async () => {
    const logger = memoryLogger()
    const first = backends.make()
    const second = backends.make({ logger })
    const events: unknown[] = []
    second.onConfigMismatch((e) => events.push(e))
    await first.record('svc', config({ threshold: 2 }), { outcome: 'failure' })
    await second.record('svc', config({ threshold: 5 }), { outcome: 'failure' })
    // The stored configuration (threshold 2) keeps deciding: the second failure opens it.
    expect(await second.snapshot('svc', config({ threshold: 5 }))).toMatchObject({ state: 'open' })
    expect(events).toEqual([
      { service: 'svc', local: config({ threshold: 5 }), stored: config({ threshold: 2 }) },
    ])
    expect(logger.lines.filter((l) => l.includes('configured differently'))).toHaveLength(1)
    await second.record('svc', config({ threshold: 5 }), { outcome: 'failure' })
    expect(events).toHaveLength(1) // reported once, not per call
  })

  it('D2 NOSCRIPT after SCRIPT FLUSH is handled: no error, no fallback', async () => {
    const b = backends.make()
    await b.ready()
    const states: unknown[] = []
    b.onBackendStateChange((e) => states.push(e))
    const redis = server.client()
    const c = config()
    await b.record('svc', c, { outcome: 'failure' })
    await redis.script('FLUSH')
    const before = await commandStats(redis)
    await b.record('svc', c, { outcome: 'failure' })
    await b.record('svc', c, { outcome: 'failure' })
    const after = await commandStats(redis)
    expect(await b.snapshot('svc', c)).toMatchObject({ state: 'open', failures: 3 })
    expect((after.eval ?? 0) - (before.eval ?? 0)).toBe(1) // reloaded once, then EVALSHA again
    expect(states).toEqual([])
    expect(b.backendState).toBe('redis')
    await closeClient(redis)
  })

  it('D2 timing is Redis server time: two processes with clocks 20 minutes apart agree', async () => {
    const skew = (ms: number) => ({ ...systemClock, now: () => Date.now() + ms })
    const ahead = backends.make({ clock: skew(600_000) })
    const behind = backends.make({ clock: skew(-600_000) })
    const c = config({ threshold: 1, recoveryMs: 150 })
    await ahead.record('svc', c, { outcome: 'failure' })
    const seen = (await behind.admit('svc', c)) as Admission & { retryAfterMs: number }
    expect(seen.kind).toBe('deny')
    expect(seen.retryAfterMs).toBeGreaterThan(50)
    expect(seen.retryAfterMs).toBeLessThanOrEqual(150)
    await sleep(170) // the open period runs out on the server
    const answers = [await behind.admit('svc', c), await ahead.admit('svc', c)]
    expect(answers.map((a) => a.kind).sort()).toEqual(['deny', 'probe'])
  })

  it('D3 closed success and open calls cost no Redis command in steady state; a failure costs one', async () => {
    const b = backends.make()
    const redis = server.client()
    const c = config({ threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000 })
    await warm(b, 'svc', c)
    await b.record('svc', c, { outcome: 'failure' }) // loads the record script
    await b.record('svc', c, { outcome: 'success' })
    await expect.poll(async () => (await b.snapshot('svc', c)).failures).toBe(0)
    let before = await commandStats(redis)
    for (let i = 0; i < 100; i++) {
      const a = b.admit('svc', c)
      expect(a).toEqual({ kind: 'allow' })
      expect(b.record('svc', c, { outcome: 'success' })).toBeUndefined()
    }
    let after = await commandStats(redis)
    expect(after.evalsha ?? 0).toBe(before.evalsha ?? 0)
    expect(after.eval ?? 0).toBe(before.eval ?? 0)

    before = after
    await b.record('svc', c, { outcome: 'failure' })
    await b.record('svc', c, { outcome: 'failure' })
    after = await commandStats(redis)
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBe(2)

    before = after
    for (let i = 0; i < 100; i++) expect(b.admit('svc', c)).toMatchObject({ kind: 'deny', state: 'open' })
    after = await commandStats(redis)
    expect(after.evalsha).toBe(before.evalsha)
    await closeClient(redis)
  })

  it('D3 a success is sent only while the shared failure count is non-zero', async () => {
    const b = backends.make()
    const redis = server.client()
    const c = config()
    await warm(b, 'svc', c)
    await b.record('svc', c, { outcome: 'failure' })
    const before = await commandStats(redis)
    expect(b.record('svc', c, { outcome: 'success' })).toBeUndefined() // off the call path
    await expect.poll(async () => (await b.snapshot('svc', c)).failures).toBe(0)
    const after = await commandStats(redis)
    expect((after.evalsha ?? 0) - (before.evalsha ?? 0)).toBeGreaterThanOrEqual(1)
    const steady = await commandStats(redis)
    void b.record('svc', c, { outcome: 'success' })
    expect((await commandStats(redis)).evalsha).toBe(steady.evalsha)
    await closeClient(redis)
  })

  it('D3 invalidation over pub/sub: another process learns the opening at once and answers from cache', async () => {
    const a = backends.make()
    const b = backends.make()
    const c = config({ threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000 })
    expect(await warm(b, 'svc', c)).toEqual({ kind: 'allow' })
    const opened = nextChange(b, 'svc', 'open')
    await a.record('svc', c, { outcome: 'failure' })
    await a.record('svc', c, { outcome: 'failure' })
    await opened
    const answer = b.admit('svc', c)
    expect(isPromise(answer)).toBe(false)
    expect(answer).toMatchObject({ kind: 'deny', state: 'open' })
  })

  it('D3 a stale generation never overwrites a newer one, and a cached state has a maximum age', async () => {
    const clock = testClock(0)
    const b = backends.make({ clock, maxCacheAgeMs: 1_000 })
    const c = config()
    await warm(b, 'svc', c)
    expect(isPromise(b.admit('svc', c))).toBe(false)
    await clock.advance(1_001)
    const late = b.admit('svc', c)
    expect(isPromise(late)).toBe(true) // too old to trust: asks Redis again
    await late
    // A message with an older generation than the cached one is ignored.
    const redis = server.client()
    const key = breakerKey(backends.prefix, 'svc')
    await redis.publish(`${key}:events`, `1|open|60000|0`)
    await redis.ping()
    expect(b.admit('svc', c)).toEqual({ kind: 'allow' })
    await closeClient(redis)
  })

  it('D3 the cache is dropped when the subscriber connection is lost', async () => {
    const b = backends.make({ recoveryCheckMs: 50 })
    const c = config()
    await warm(b, 'svc', c)
    const redis = server.client()
    await redis.client('KILL', 'TYPE', 'pubsub')
    await expect.poll(() => isPromise(b.admit('svc', c))).toBe(true)
    // The background check reconnects the subscriber; the cache warms up again.
    expect(await warm(b, 'svc', c)).toEqual({ kind: 'allow' })
    expect(b.backendState).toBe('redis')
    await closeClient(redis)
  })

  it('D4 one probe at a time under a lease: stale reports are ignored, renew extends, release frees it', async () => {
    const a = backends.make()
    const b = backends.make()
    const c = config({ threshold: 1, recoveryMs: 100, probeLeaseMs: 150 })
    await a.record('svc', c, { outcome: 'failure' })
    await sleep(110)
    const first = (await a.admit('svc', c)) as Extract<Admission, { kind: 'probe' }>
    expect(first.kind).toBe('probe')
    expect(await b.admit('svc', c)).toEqual({ kind: 'deny', retryAfterMs: 0, state: 'half-open' })
    await sleep(160) // the first prober's lease runs out on the server
    const second = (await b.admit('svc', c)) as Extract<Admission, { kind: 'probe' }>
    expect(second.kind).toBe('probe')
    expect(second.token).not.toBe(first.token)
    await a.record('svc', c, { outcome: 'success', token: first.token }) // stale: ignored
    expect(await a.snapshot('svc', c)).toMatchObject({ state: 'half-open' })
    await sleep(100)
    await b.renew('svc', c, second.token)
    await sleep(100) // 200 ms after the probe started: alive only thanks to the renewal
    expect(await a.admit('svc', c)).toMatchObject({ kind: 'deny', state: 'half-open' })
    await b.release('svc', c, second.token)
    const fresh = backends.make() // no cached view: asks Redis
    const third = (await fresh.admit('svc', c)) as Extract<Admission, { kind: 'probe' }>
    expect(third.kind).toBe('probe')
    await fresh.record('svc', c, { outcome: 'success', token: third.token })
    expect(await b.snapshot('svc', c)).toMatchObject({ state: 'closed', failures: 0 })
  })

  it('close() leaves no connection, subscriber or timer', async () => {
    const redis = server.client()
    const count = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((l) => l.includes('name=breakwater-circuit')).length
    const b = backends.make({ recoveryCheckMs: 20 })
    await b.ready()
    await warm(b, 'svc')
    expect(await count()).toBe(2)
    await b.close()
    await expect.poll(count).toBe(0)
    await closeClient(redis)
  })
})
