/** Shared set-up for the Redis backend tests: one server per file, one prefix per test. */
import type { Cluster, Redis } from 'ioredis'
import type { Admission, CircuitConfig } from '../../src/circuit/circuit-backend.js'
import type { LogFields, Logger } from '../../src/core/logger.js'
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

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly message: string
  readonly fields: LogFields | undefined
}

/**
 * A logger that keeps what it was told: `entries` as given, `lines` as `<level> <message>
 * <fields as JSON>` for tests that look for a word wherever it is.
 */
export function memoryLogger(): Logger & { entries: LogEntry[]; lines: string[] } {
  const entries: LogEntry[] = []
  const lines: string[] = []
  const at =
    (level: LogEntry['level']) =>
    (message: string, fields?: LogFields): void => {
      entries.push({ level, message, fields })
      lines.push(`${level} ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`)
    }
  return { entries, lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
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

export const isPromise = (x: unknown): boolean => typeof (x as Promise<unknown>)?.then === 'function'

/** Resolves with the next state change the backend learns of for `service`. */
export function nextChange(
  b: { onStateChange: (l: (e: { service: string; to: string }) => void) => { dispose(): void } },
  service: string,
  to: string,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const d = b.onStateChange((e) => {
      if (e.service === service && e.to === to) {
        d.dispose()
        resolve()
      }
    })
  })
}

/** Admits until the answer comes synchronously from the cache (the subscription is confirmed). */
export async function warm(
  b: { admit: (s: string, c: CircuitConfig) => Admission | Promise<Admission> },
  service: string,
  c = config(),
): Promise<Admission> {
  // Bounded by time, not by tries: under load the subscriber may take a while to come back.
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline) {
    const a = b.admit(service, c)
    if (!isPromise(a)) return a as Admission
    await a
    await sleep(5)
  }
  throw new Error('the cache never warmed up')
}

/** Log lines that contain `part`. */
export const linesWith = (logger: { lines: string[] }, part: string): string[] =>
  logger.lines.filter((l) => l.includes(part))
