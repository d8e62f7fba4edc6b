/**
 * D1–D3 on a real 3-master Redis Cluster: keys and channels share the service's hash tag, so every
 * script touches one slot (no CROSSSLOT), scripts load on whichever node owns the key (also after
 * SCRIPT FLUSH), and invalidations travel over sharded pub/sub to another connection.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import type { Admission } from '../../src/circuit/circuit-backend.js'
import { type RedisClusterHandle, startRedisCluster } from '../helpers/redis-cluster.js'
import { backendFactory, config } from './redis-fixtures.js'

let cluster: RedisClusterHandle
const backends = backendFactory(() => cluster.client({ lazyConnect: true }))
beforeAll(async () => {
  cluster = await startRedisCluster()
}, 30_000)
afterAll(async () => cluster.stop())
afterEach(() => backends.closeAll())

const isPromise = (x: unknown): boolean => typeof (x as Promise<unknown>)?.then === 'function'

describe('Redis Cluster', () => {
  it('D1 D2 D3 a 3-master cluster: one slot per service, scripts reload after SCRIPT FLUSH, invalidation reaches another connection', async () => {
    const a = backends.make()
    const b = backends.make()
    await a.ready()
    await b.ready()
    const admin = cluster.client()
    // Services on three different masters.
    const services: string[] = []
    const owners = new Set<number>()
    for (let i = 0; services.length < 3 && i < 200; i++) {
      const service = `provider:model-${i}`
      const slot = Number(await admin.cluster('KEYSLOT', breakerKey(backends.prefix, service)))
      const owner = Math.floor(slot / 5462)
      if (!owners.has(owner)) {
        owners.add(owner)
        services.push(service)
      }
    }
    expect(services).toHaveLength(3)
    const states: unknown[] = []
    a.onBackendStateChange((e) => states.push(e))
    b.onBackendStateChange((e) => states.push(e))
    const c = config({ threshold: 2, recoveryMs: 60_000, maxRecoveryMs: 60_000 })

    for (const [i, service] of services.entries()) {
      for (let k = 0; k < 50 && isPromise(b.admit(service, c)); k++) await b.admit(service, c) // b watches
      expect(isPromise(b.admit(service, c))).toBe(false)
      if (i === 1) await Promise.all(cluster.nodes.map((n) => n.client().script('FLUSH')))
      const opened = new Promise<void>((resolve) => {
        const d = b.onStateChange((e) => {
          if (e.service === service && e.to === 'open') {
            d.dispose()
            resolve()
          }
        })
      })
      await a.record(service, c, { outcome: 'failure' })
      await a.record(service, c, { outcome: 'failure' })
      await opened // over SSUBSCRIBE, on the shard that owns the service
      const answer = b.admit(service, c) as Admission
      expect(isPromise(answer)).toBe(false)
      expect(answer).toMatchObject({ kind: 'deny', state: 'open' })
      expect(await admin.hget(breakerKey(backends.prefix, service), 'st')).toBe('open')
    }
    expect(states).toEqual([]) // no CROSSSLOT, no NOSCRIPT, no timeout ever reached the fallback
  }, 30_000)
})
