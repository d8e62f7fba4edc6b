/**
 * D7: Redis refusing the backend through its ACL — a user without EVAL/EVALSHA, a user without
 * PUBLISH — on a real redis-server. The background check runs on a test clock; everything else is
 * real (the ACL, the scripts, the refusals).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { closeClient, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { backendFactory, linesWith, memoryLogger } from './redis-fixtures.js'

let server: RedisServer
const backends = backendFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => backends.closeAll())

const unavailable = (): Promise<never> =>
  Promise.reject(Object.assign(new Error('upstream down'), { status: 503 }))

/** Every error a caller saw is the provider's own or a BrokenCircuitError: never a Redis error. */
function expectNoRedisError(results: unknown[]): void {
  for (const r of results) {
    if (r === 'ok') continue
    expect(isBrokenCircuitError(r) || (r as Error).message === 'upstream down').toBe(true)
  }
}

/** Lets the background recovery check run `times` times on the test clock, each to its end. */
async function recoveryChecks(
  clock: ReturnType<typeof testClock>,
  b: RedisCircuitBackend,
  everyMs: number,
  times = 1,
) {
  for (let i = 0; i < times; i++) {
    await clock.advance(everyMs)
    await b.whenIdle()
  }
}

describe('Redis ACL refusals (D7)', () => {
  it('D7 an ACL user without EVAL/EVALSHA: the recovery check runs a read-only script, so the backend stays on the fallback (one log line), and callers see no error', async () => {
    const admin = server.client()
    await admin.acl('SETUSER', 'noeval', 'on', '>pw', '~*', '&*', '+@all', '-eval', '-evalsha')
    const clock = testClock(0)
    const logger = memoryLogger()
    const b = backends.make({
      client: server.client({ lazyConnect: true, username: 'noeval', password: 'pw' }),
      clock,
      logger,
      recoveryCheckMs: 100,
    })
    await expect(b.ready()).rejects.toThrow(/NOPERM/)
    const g = circuitGuard({ backend: b, clock, threshold: 3, recoveryMs: 1_000, service: 'svc' })
    const results: unknown[] = []
    for (let i = 0; i < 3; i++) results.push(await g.execute(() => 'ok').catch((e: unknown) => e))
    expect(b.backendState).toBe('fallback') // the first refusal switched at once
    await recoveryChecks(clock, b, 100, 5) // PING would pass each time; the script check does not
    for (let i = 0; i < 3; i++) results.push(await g.execute(() => 'ok').catch((e: unknown) => e))
    expect(results).toEqual(new Array(6).fill('ok'))
    expect(b.backendState).toBe('fallback')
    expect(linesWith(logger, 'unusable')).toHaveLength(1)
    expect(linesWith(logger, 'reachable again')).toHaveLength(0)
    // The ACL is fixed: the next check brings the shared breaker back, once.
    await admin.acl('SETUSER', 'noeval', '+eval', '+evalsha')
    await recoveryChecks(clock, b, 100)
    expect(b.backendState).toBe('redis')
    expect(await g.execute(() => 'ok')).toBe('ok')
    expect(linesWith(logger, 'unusable')).toHaveLength(1)
    expect(linesWith(logger, 'reachable again')).toHaveLength(1)
    await admin.acl('DELUSER', 'noeval')
    await closeClient(admin)
  })

  it('D7 an ACL user without PUBLISH: a refused invalidation is a backend error, so the backend falls back once and stays there (the write itself applied), and callers see no error', async () => {
    const admin = server.client()
    await admin.acl('SETUSER', 'nopub', 'on', '>pw', '~*', '&*', '+@all', '-publish', '-spublish')
    const clock = testClock(0)
    const logger = memoryLogger()
    const b = backends.make({
      client: server.client({ lazyConnect: true, username: 'nopub', password: 'pw' }),
      clock,
      logger,
      recoveryCheckMs: 100,
    })
    await expect(b.ready()).rejects.toThrow(/publish/i)
    const g = circuitGuard({ backend: b, clock, threshold: 3, recoveryMs: 1_000, service: 'svc' })
    const results: unknown[] = [await g.execute(() => 'ok').catch((e: unknown) => e)]
    expect(b.backendState).toBe('redis') // a closed admission publishes nothing: nothing was refused yet
    results.push(await g.execute(unavailable).catch((e: unknown) => e)) // counted: fl 0 -> 1 is published
    await b.whenIdle()
    expect(b.backendState).toBe('fallback')
    expect(await admin.hget(breakerKey(backends.prefix, 'svc'), 'fl')).toBe('1')
    await recoveryChecks(clock, b, 100, 5) // the check publishes too: refused each time
    results.push(await g.execute(() => 'ok').catch((e: unknown) => e))
    expectNoRedisError(results)
    expect(results.filter((r) => r === 'ok')).toHaveLength(2)
    expect(b.backendState).toBe('fallback')
    expect(linesWith(logger, 'unusable')).toHaveLength(1)
    expect(linesWith(logger, 'unusable')[0]).toMatch(/PUBLISH/)
    expect(linesWith(logger, 'reachable again')).toHaveLength(0)
    await admin.acl('SETUSER', 'nopub', '+publish', '+spublish')
    await recoveryChecks(clock, b, 100)
    expect(b.backendState).toBe('redis')
    expect(linesWith(logger, 'reachable again')).toHaveLength(1)
    await admin.acl('DELUSER', 'nopub')
    await closeClient(admin)
  })
})
