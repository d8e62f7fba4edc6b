/** Shared set-up for the Redis backend tests: one server per file, one prefix per test. */
import type { Cluster, Redis } from 'ioredis'
import type { CircuitConfig } from '../../src/circuit/circuit-backend.js'
import { RedisCircuitBackend } from '../../src/circuit/backends/redis/index.js'
import type { RedisCircuitBackendOptions } from '../../src/circuit/backends/redis/index.js'
import { testPrefix } from '../helpers/redis-server.js'

export function config(overrides: Partial<CircuitConfig> = {}): CircuitConfig {
  return {
    threshold: 3,
    recoveryMs: 150,
    maxRecoveryMs: 1_000,
    halfOpenSuccesses: 1,
    probeLeaseMs: 100,
    ...overrides,
  }
}

/** A logger that keeps what it was told. */
export function memoryLogger(): { lines: string[]; warn(m: string): void; info(m: string): void } {
  const lines: string[] = []
  return {
    lines,
    warn: (m: string) => void lines.push(`warn ${m}`),
    info: (m: string) => void lines.push(`info ${m}`),
  }
}

/** Makes backends on one client with a fresh prefix, and closes them all afterwards. */
export function backendFactory(client: () => Redis | Cluster) {
  const made: RedisCircuitBackend[] = []
  let prefix = testPrefix()
  return {
    get prefix() {
      return prefix
    },
    make(options: Partial<RedisCircuitBackendOptions> = {}): RedisCircuitBackend {
      const backend = new RedisCircuitBackend({
        client: client(),
        prefix,
        logger: memoryLogger(),
        ...options,
      })
      made.push(backend)
      return backend
    },
    async closeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((b) => b.close()))
      prefix = testPrefix()
    },
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
