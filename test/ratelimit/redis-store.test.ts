/**
 * L2 against a real redis-server (one per file, one key prefix per test). Budgets are chosen so
 * that the refill during a test is far below one call, so counts are exact without a test clock
 * (Redis keeps time with its own clock).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isRateLimitError } from '../../src/core/errors/rate-limit-error.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { RedisRateLimitStore } from '../../src/ratelimit/redis/redis-rate-limit-store.js'
import { closeClient, commandStats, freePort, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { callsUntilRefused, memoryLogger, nextState, storeFactory } from './redis-fixtures.js'

let server: RedisServer
const stores = storeFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => stores.closeAll())

const HOUR = 3_600_000
const scripts = (s: Record<string, number>): number => (s.evalsha ?? 0) + (s.eval ?? 0)

describe('Redis rate limit store (L2)', () => {
  it('L2 one hash per service under <prefix>:rl:{service}, timed by Redis: no process clock is stored', async () => {
    const store = stores.make({ keyTtlMs: 60_000 })
    await store.ready()
    const guard = rateLimitGuard({ requests: 10, tokens: 1_000, windowMs: HOUR, store })
    await guard.execute(() => 'x', { service: 'openai:{gpt}%', cost: 100 })
    const redis = server.client()
    const key = `${stores.prefix}:rl:{openai:%7Bgpt%7D%25}`
    expect(store.key('openai:{gpt}%')).toBe(key)
    // Besides the service's hash, only the scratch key ready() uses, which no service can own.
    const keys = (await redis.keys(`${stores.prefix}:rl:*`)).sort()
    expect(keys).toEqual([key, `${stores.prefix}:rl:{%ready}`].sort())
    const hash = await redis.hgetall(key)
    const serverMs = Number((await redis.time())[0]) * 1000
    expect(Math.abs(Number(hash.t) - serverMs)).toBeLessThan(5_000)
    expect(Number(hash.rl)).toBeLessThanOrEqual(9)
    expect(Number(hash.tl)).toBeLessThanOrEqual(900)
    expect(await redis.pttl(key)).toBeGreaterThan(55_000)
    await closeClient(redis)
  })

  it('L2 guards on separate stores (processes, one with a clock an hour off) share one budget per service', async () => {
    const a = stores.make()
    const skewed = {
      now: () => Date.now() + HOUR,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    }
    const b = stores.make({ clock: skewed })
    const ga = rateLimitGuard({ requests: 1_000, windowMs: HOUR, maxWaitMs: 0, store: a })
    const gb = rateLimitGuard({ requests: 1_000, windowMs: HOUR, maxWaitMs: 0, store: b, clock: skewed })
    let went = 0
    let refusedA = false
    let refusedB = false
    while (!refusedA || !refusedB) {
      for (const [g, side] of [
        [ga, 'a'],
        [gb, 'b'],
      ] as const) {
        const r = await g.execute(() => 'ok', { service: 'svc' }).catch((e: unknown) => e)
        if (r === 'ok') went++
        else if (!isRateLimitError(r)) throw r
        else if (side === 'a') refusedA = true
        else refusedB = true
      }
    }
    // The fleet's budget, used up between them: nothing stranded, nothing extra (the refill of an
    // hour-long window during the test is well below one request).
    expect(went).toBeGreaterThanOrEqual(999)
    expect(went).toBeLessThanOrEqual(1_001)
    expect(
      await callsUntilRefused(
        rateLimitGuard({ requests: 1_000, windowMs: HOUR, maxWaitMs: 0, store: stores.make() }),
        'svc',
      ),
    ).toBe(0)
  })

  it('L2 at most one Redis command per call; with small leases far fewer (INFO commandstats)', async () => {
    const store = stores.make()
    await store.ready()
    const redis = server.client()
    const guard = rateLimitGuard({ requests: 10_000, tokens: 10_000_000, windowMs: HOUR, store })
    const before = scripts(await commandStats(redis))
    for (let i = 0; i < 200; i++) await guard.execute(() => i, { service: 'svc', cost: 500 })
    const sequential = scripts(await commandStats(redis)) - before
    expect(sequential).toBeLessThanOrEqual(200 / 10) // a lease of 2 % of the limit serves ~20 calls
    await closeClient(redis)
  })

  it('L2 calls waiting on a short budget: at most one command per call, reservations for the queue in one', async () => {
    const store = stores.make({ leaseFraction: 0 })
    await store.ready()
    const redis = server.client()
    // 20 a second: 40 calls beyond the first 20 wait about two seconds in all (real time: Redis's).
    const guard = rateLimitGuard({ requests: 20, windowMs: 1_000, maxWaitMs: 10_000, store })
    const before = scripts(await commandStats(redis))
    const started = Date.now()
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => guard.execute(() => i, { service: 'svc' })),
    )
    const elapsed = Date.now() - started
    const commands = scripts(await commandStats(redis)) - before
    expect(results).toHaveLength(60)
    expect(elapsed).toBeGreaterThanOrEqual(1_900) // paced by the budget, not let through
    expect(commands).toBeLessThanOrEqual(60)
    expect(commands).toBeLessThan(10) // the queue's reservations go with one take
    await closeClient(redis)
  })

  it('L2 NOSCRIPT after SCRIPT FLUSH costs a round trip, never an error or a fallback', async () => {
    const store = stores.make()
    await store.ready()
    const guard = rateLimitGuard({ requests: 100, windowMs: HOUR, maxWaitMs: 0, store })
    await guard.execute(() => 1, { service: 'svc' })
    const redis = server.client()
    await redis.script('FLUSH')
    expect(await callsUntilRefused(guard, 'svc')).toBe(99)
    expect(store.backendState).toBe('redis')
    await closeClient(redis)
  })

  it('L3 what one process learns from headers tightens the fleet budget at once; a 429 pauses the fleet', async () => {
    // No spare leases: what B may still use is exactly what Redis says.
    const a = stores.make({ leaseFraction: 0 })
    const b = stores.make({ leaseFraction: 0 })
    const ga = rateLimitGuard({ requests: 100, windowMs: HOUR, maxWaitMs: 0, store: a })
    const gb = rateLimitGuard({ requests: 100, windowMs: HOUR, maxWaitMs: 0, store: b })
    await ga.execute(() => 'first', { service: 'svc' })
    await gb.execute(() => 'first', { service: 'svc' })
    ga.observe('svc', {
      headers: { 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '5' },
    })
    await a.whenIdle()
    expect((await gb.remaining('svc')).requests).toBeLessThanOrEqual(5)
    expect(await callsUntilRefused(gb, 'svc')).toBeLessThanOrEqual(5)
    ga.observe('svc', { status: 429, headers: { 'retry-after': '30' } })
    await a.whenIdle()
    const refused = await gb.execute(() => 'no', { service: 'svc' }).catch((e: unknown) => e)
    expect(isRateLimitError(refused)).toBe(true)
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(29_000)
  })

  it('L2 Redis down: each process falls back to its share of the budget, never unlimited; back to Redis after a background check', async () => {
    const logger = memoryLogger()
    const fast = { failureThreshold: 1, recoveryCheckMs: 50, commandTimeoutMs: 100, leaseFraction: 0 }
    const a = stores.make({ ...fast, logger })
    const b = stores.make(fast)
    await Promise.all([a.ready(), b.ready()])
    const options = { requests: 100, windowMs: HOUR, maxWaitMs: 0 }
    const ga = rateLimitGuard({ ...options, store: a })
    const gb = rateLimitGuard({ ...options, store: b })
    await ga.execute(() => 'a', { service: 'svc' })
    await gb.execute(() => 'b', { service: 'svc' })
    await ga.execute(() => 'a again', { service: 'svc' }) // A hears that two processes take
    const down = nextState(a, 'fallback')
    const back = nextState(a, 'redis') // the first 'redis' after the fallback: the return
    await server.kill()
    let went: number
    let whileDown: string
    try {
      went = await callsUntilRefused(ga, 'svc', 500)
      await down
      whileDown = a.backendState
    } finally {
      await server.restart()
    }
    expect(whileDown).toBe('fallback')
    // Two processes took from the budget lately: this one gets half of the 97 left.
    expect(went).toBe(48)
    expect(logger.lines.filter((l) => l.includes('unusable'))).toHaveLength(1)
    await back
    expect(logger.lines.filter((l) => l.includes('reachable again'))).toHaveLength(1)
    // The restarted Redis is empty: the fleet budget is whole again, and shared again.
    expect(await ga.execute(() => 'shared again', { service: 'svc' })).toBe('shared again')
    expect(a.backendState).toBe('redis')
  })

  it('L2 ready() rejects when Redis is unreachable; calls are still answered from the share', async () => {
    const port = await freePort()
    const store = new RedisRateLimitStore({
      client: server.client({ port, lazyConnect: true }),
      prefix: stores.prefix,
      logger: memoryLogger(),
      fallbackShare: 0.5,
    })
    try {
      await expect(store.ready()).rejects.toThrow(/RedisRateLimitStore: Redis is unreachable/)
      const guard = rateLimitGuard({ requests: 10, windowMs: HOUR, maxWaitMs: 0, store })
      expect(await callsUntilRefused(guard, 'svc')).toBe(5)
    } finally {
      await store.close()
    }
  })

  it('L2 ready() rejects when the ACL forbids the scripts', async () => {
    const admin = server.client()
    const user = `rl-${stores.prefix}`
    await admin.acl('SETUSER', user, 'on', '>secret', '~*', '+@all', '-evalsha', '-eval')
    const store = stores.make({
      client: server.client({ username: user, password: 'secret', lazyConnect: true }),
    })
    await expect(store.ready()).rejects.toThrow(/rate limit scripts cannot run.*ACL/)
    await admin.acl('DELUSER', user)
    await closeClient(admin)
  })
})

describe('L5 RedisRateLimitStore options', () => {
  it('L5 invalid store options throw, naming the option and the value', () => {
    const client = server.client({ lazyConnect: true })
    const make = (o: object) => () => new RedisRateLimitStore({ client, ...o })
    expect(make({ client: {} })).toThrow(/"client" must be an ioredis Redis or Cluster client/)
    expect(make({ prefix: 'a{b}' })).toThrow(/"prefix".*got "a\{b\}"/)
    expect(make({ commandTimeoutMs: 0 })).toThrow(RangeError)
    expect(make({ leaseFraction: 1.5 })).toThrow(/"leaseFraction".*<= 1.*got 1.5/)
    expect(make({ fallbackShare: 0 })).toThrow(/"fallbackShare".*got 0/)
    expect(make({ leaseMs: -1 })).toThrow(/"leaseMs".*got -1/)
    expect(make({ failureThreshold: 1.5 })).toThrow(/"failureThreshold".*got 1.5/)
    expect(make({ logger: {} })).toThrow(/option "logger" must be an object with .*warn at least/)
  })
})
