/** Shared set-up for the Redis rate limit store tests: one server per file, one prefix per test. */
import type { Cluster, Redis } from 'ioredis'
import { isRateLimitError } from '../../src/core/errors/rate-limit-error.js'
import type { RateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { RedisRateLimitStore } from '../../src/ratelimit/redis/redis-rate-limit-store.js'
import type { RedisRateLimitStoreOptions } from '../../src/ratelimit/redis/redis-store-options.js'
import { memoryLogger } from '../circuit/redis-fixtures.js'
import { testPrefix } from '../helpers/redis-server.js'

/** Makes stores on one client with a fresh prefix (one budget), and closes them all afterwards. */
export function storeFactory(client: () => Redis | Cluster) {
  const made: RedisRateLimitStore[] = []
  let prefix = testPrefix('rl')
  return {
    get prefix() {
      return prefix
    },
    make(options: Partial<RedisRateLimitStoreOptions> = {}): RedisRateLimitStore {
      const store = new RedisRateLimitStore({ client: client(), prefix, logger: memoryLogger(), ...options })
      made.push(store)
      return store
    },
    async closeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((s) => s.close()))
      prefix = testPrefix('rl')
    },
  }
}

/** Calls through `guard` until it refuses with RateLimitError (or `max` calls went); returns how many went. */
export async function callsUntilRefused(
  guard: RateLimitGuard,
  service: string,
  max = 10_000,
): Promise<number> {
  let went = 0
  for (; went < max; went++) {
    const result = await guard.execute(() => 'ok', { service }).catch((e: unknown) => e)
    if (isRateLimitError(result)) return went
    if (result !== 'ok') throw result
  }
  return went
}

export function nextState(store: RedisRateLimitStore, to: 'redis' | 'fallback'): Promise<void> {
  return new Promise((resolve) => {
    const d = store.onBackendStateChange((e) => {
      if (e.to === to) {
        d.dispose()
        resolve()
      }
    })
  })
}

export { memoryLogger }
