/**
 * L2 on a real 3-master Redis Cluster: each service's budget is one hash-tagged key, so every
 * script touches one slot (no CROSSSLOT) on whichever master owns it, scripts reload there after
 * SCRIPT FLUSH, and two stores (processes) share each budget.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { type RedisClusterHandle, startRedisCluster } from '../helpers/redis-cluster.js'
import { callsUntilRefused, storeFactory } from './redis-fixtures.js'

let cluster: RedisClusterHandle
const stores = storeFactory(() => cluster.client({ lazyConnect: true }))
beforeAll(async () => {
  cluster = await startRedisCluster()
}, 30_000)
afterAll(async () => cluster.stop())
afterEach(() => stores.closeAll())

describe('Redis Cluster', () => {
  it('L2 a 3-master cluster: one slot per service budget, scripts reload after SCRIPT FLUSH, two processes share each budget', async () => {
    const a = stores.make({ leaseFraction: 0 })
    const b = stores.make({ leaseFraction: 0 })
    await Promise.all([a.ready(), b.ready()])
    const admin = cluster.client()
    // Services whose budgets live on three different masters.
    const services: string[] = []
    const owners = new Set<number>()
    for (let i = 0; services.length < 3 && i < 200; i++) {
      const service = `provider:model-${i}`
      const owner = Math.floor(Number(await admin.cluster('KEYSLOT', a.key(service))) / 5462)
      if (!owners.has(owner)) {
        owners.add(owner)
        services.push(service)
      }
    }
    expect(services).toHaveLength(3)
    const options = { requests: 10, tokens: 1_000, windowMs: 3_600_000, maxWaitMs: 0 }
    const ga = rateLimitGuard({ ...options, store: a })
    const gb = rateLimitGuard({ ...options, store: b })
    for (const [i, service] of services.entries()) {
      if (i === 1) await Promise.all(cluster.nodes.map((n) => n.client().script('FLUSH')))
      const first = await callsUntilRefused(ga, service, 4)
      const rest = await callsUntilRefused(gb, service)
      expect([first, rest]).toEqual([4, 6])
      expect(await admin.exists(a.key(service))).toBe(1)
      gb.observe(service, { headers: { 'x-ratelimit-limit-requests': '5' } })
      await b.whenIdle()
      expect(await ga.remaining(service)).toMatchObject({ requests: 0, tokens: 990 }) // a call costs 1 token by default
    }
    expect([a.backendState, b.backendState]).toEqual(['redis', 'redis'])
  }, 30_000)
})
