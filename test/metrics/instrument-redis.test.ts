/**
 * The Redis backend's metrics against a real redis-server: shared breaker state and the fallback
 * gauge. Real time only for the backend's command timeout and background check (tens of ms).
 */
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { instrument } from '../../src/metrics/instrument.js'
import { type RedisServer, startRedis, testPrefix } from '../helpers/redis-server.js'
import { byLabel, value } from './read-metrics.js'

const P = 'breakwater_'
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }
const unavailable = (): Promise<never> =>
  Promise.reject(Object.assign(new Error('upstream down'), { status: 503 }))

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())

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

describe('Redis circuit backend metrics', () => {
  it('M15 redis_backend_fallback_active is 1 while the backend answers from its fallback, shared state is reported', async () => {
    const backend = new RedisCircuitBackend({
      client: server.client({ lazyConnect: true }),
      prefix: testPrefix(),
      commandTimeoutMs: 100,
      failureThreshold: 1,
      recoveryCheckMs: 30,
      logger: quiet,
    })
    try {
      await backend.ready()
      const guard = circuitGuard({ backend, service: 'svc', threshold: 2, recoveryMs: 60_000 })
      const registry = new Registry()
      const metrics = instrument(registry, guard) // the backend is found through the guard
      const direct = new Registry()
      instrument(direct, backend) // or given on its own
      expect(await value(registry, `${P}redis_backend_fallback_active`)).toBe(0)

      // A second guard on the same backend (another worker's view) opens the shared breaker.
      const other = circuitGuard({ backend, service: 'svc', threshold: 2, recoveryMs: 60_000 })
      await other.execute(unavailable).catch(() => undefined)
      await other.execute(unavailable).catch(() => undefined)
      expect(await byLabel(registry, `${P}circuit_state`, 'state', { service: 'svc' })).toEqual({
        closed: 0,
        open: 1,
        'half-open': 0,
      })
      expect(
        await value(registry, `${P}circuit_transitions_total`, {
          service: 'svc',
          from: 'closed',
          to: 'open',
        }),
      ).toBe(1)

      const fellBack = nextBackendState(backend, 'fallback')
      await server.kill()
      // A failure is recorded in Redis (a success on a closed breaker costs no round trip).
      await guard.execute(unavailable, { service: 'other' }).catch(() => undefined)
      await fellBack
      expect(await value(registry, `${P}redis_backend_fallback_active`)).toBe(1)
      expect(await value(direct, `${P}redis_backend_fallback_active`)).toBe(1)
      expect(
        await value(direct, `${P}circuit_transitions_total`, { service: 'svc', from: 'closed', to: 'open' }),
      ).toBe(1)

      const back = nextBackendState(backend, 'redis')
      await server.restart()
      await back
      expect(await value(registry, `${P}redis_backend_fallback_active`)).toBe(0)
      metrics.dispose()
    } finally {
      await backend.close()
    }
  })
})
