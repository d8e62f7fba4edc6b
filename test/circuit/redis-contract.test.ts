/** The shared CircuitBackend behaviour (C1–C6, D6 through real guards) on a real redis-server. */
import { afterAll, beforeAll } from 'vitest'
import { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import { systemClock } from '../../src/core/clock.js'
import { type RedisServer, startRedis, testPrefix } from '../helpers/redis-server.js'
import { describeCircuitBackend } from './backend-contract.js'
import { memoryLogger, sleep } from './redis-fixtures.js'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())

describeCircuitBackend(
  'redis',
  async () => {
    const backend = new RedisCircuitBackend({
      client: server.client({ lazyConnect: true }),
      prefix: testPrefix('contract'),
      logger: memoryLogger(),
    })
    await backend.ready()
    return {
      backend,
      cleanup: () => backend.close(),
      waitFor: (ms) => sleep(ms + 5),
      clock: systemClock,
      settle: () => backend.whenIdle(),
    }
  },
  { recoveryMs: 150, slackMs: 60 },
)
