/**
 * LOG4, LOG5: the Redis components log through their `logger` option only — constant messages,
 * structured fields — when Redis goes away and comes back (real redis-server: SIGKILL + restart,
 * SIGSTOP + SIGCONT, CLIENT KILL), and nothing reaches the console; without the option, console.
 * Real time only for the command timeout and the background check (tens of ms).
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest'
import {
  RedisCircuitBackend,
  type RedisCircuitBackendOptions,
} from '../../src/circuit/backends/redis/index.js'
import {
  SUBSCRIBER_LOST,
  SUBSCRIBER_RECONNECTED,
} from '../../src/circuit/backends/redis/subscriptions-lost.js'
import type { LogFields, Logger } from '../../src/core/logger.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { RedisRateLimitStore } from '../../src/ratelimit/redis/redis-rate-limit-store.js'
import { FALLBACK_ACTIVE, FALLBACK_ENDED } from '../../src/redis-common/backend-health.js'
import { config, warm } from '../circuit/redis-fixtures.js'
import { deferred } from '../helpers/deferred.js'
import { freePort, type RedisServer, startRedis, testPrefix } from '../helpers/redis-server.js'

interface Entry {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly message: string
  readonly fields: LogFields | undefined
}

/** A logger that keeps its entries; `seen(message)` resolves once an entry with it was logged. */
function recorder(): Logger & { entries: Entry[]; seen(message: string): Promise<void> } {
  const entries: Entry[] = []
  const waiting: { message: string; resolve(): void }[] = []
  const at =
    (level: Entry['level']) =>
    (message: string, fields?: LogFields): void => {
      entries.push({ level, message, fields })
      for (const w of waiting) if (w.message === message) w.resolve()
    }
  return {
    entries,
    seen(message) {
      if (entries.some((e) => e.message === message)) return Promise.resolve()
      const d = deferred()
      waiting.push({ message, resolve: d.resolve })
      return d.promise
    },
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  }
}

/** Resolves on the component's next switch to `to`. */
function next(
  c: { onBackendStateChange: (l: (e: { to: string }) => void) => { dispose(): void } },
  to: 'redis' | 'fallback',
): Promise<void> {
  return new Promise((resolve) => {
    const d = c.onBackendStateChange((e) => {
      if (e.to === to) {
        d.dispose()
        resolve()
      }
    })
  })
}

const CONSOLE = ['debug', 'info', 'warn', 'error', 'log'] as const
let consoleSpies: MockInstance[] = []
let server: RedisServer
const closing: { close(): Promise<void> }[] = []

beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
beforeEach(() => {
  consoleSpies = CONSOLE.map((level) => vi.spyOn(console, level).mockImplementation(() => {}))
})
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()))
  for (const spy of consoleSpies) spy.mockRestore()
})

/** A backend on this file's server with a recording logger and a fast background check. */
function circuitBackend(options: Partial<RedisCircuitBackendOptions> = {}) {
  const logger = recorder()
  const prefix = testPrefix()
  const client = server.client({ lazyConnect: true })
  const backend = new RedisCircuitBackend({ client, prefix, logger, recoveryCheckMs: 30, ...options })
  closing.push(backend)
  return { backend, logger, prefix }
}

const expectNothingOnConsole = (): void => {
  for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
}

describe('Redis components log through their logger (LOG4, LOG5)', () => {
  it('LOG4 RedisCircuitBackend, Redis killed and restarted: the lost subscriber, the fallback with its error, and the return are structured entries; nothing on console', async () => {
    const { backend, logger, prefix } = circuitBackend({ commandTimeoutMs: 100, failureThreshold: 1 })
    await backend.ready()
    const fellBack = next(backend, 'fallback')
    const back = next(backend, 'redis')
    await server.kill()
    try {
      await backend.snapshot('svc', config()) // one command, refused: the fallback takes over
      await fellBack
      await logger.seen(SUBSCRIBER_LOST)
    } finally {
      await server.restart()
    }
    await back
    await backend.whenIdle()

    const base = { component: 'RedisCircuitBackend', prefix }
    expect(logger.entries).toHaveLength(3)
    expect(logger.entries).toContainEqual({
      level: 'info',
      message: SUBSCRIBER_LOST,
      fields: { ...base, reason: 'the subscriber connection closed' },
    })
    const active = logger.entries.findIndex((e) => e.message === FALLBACK_ACTIVE)
    const ended = logger.entries.findIndex((e) => e.message === FALLBACK_ENDED)
    expect(active).toBeGreaterThanOrEqual(0)
    expect(ended).toBeGreaterThan(active)
    const fields = logger.entries[active]!.fields!
    expect(logger.entries[active]!.level).toBe('warn')
    expect(fields).toMatchObject({ ...base, from: 'redis', to: 'fallback', fallback: 'local' })
    expect(typeof fields.error).toBe('string')
    expect(fields.error).not.toBe('')
    expect(typeof fields.errorName).toBe('string')
    expect(logger.entries[ended]).toEqual({
      level: 'info',
      message: FALLBACK_ENDED,
      fields: { ...base, from: 'fallback', to: 'redis', fallback: 'local' },
    })
    // Redis was unusable meanwhile: the return says the subscriber is back, no entry of its own.
    expect(logger.entries.map((e) => e.message)).not.toContain(SUBSCRIBER_RECONNECTED)
    expectNothingOnConsole()
  })

  it('LOG4 RedisCircuitBackend, only the subscriber connection killed: lost and reconnected entries, no fallback; nothing on console', async () => {
    const { backend, logger, prefix } = circuitBackend()
    await backend.ready()
    await warm(backend, 'svc')
    const switches: string[] = []
    backend.onBackendStateChange((e) => switches.push(e.to))
    const admin = server.client()
    await admin.client('KILL', 'TYPE', 'pubsub')
    await logger.seen(SUBSCRIBER_RECONNECTED)
    await warm(backend, 'svc') // subscribed again: the cache answers once more

    const base = { component: 'RedisCircuitBackend', prefix }
    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: SUBSCRIBER_LOST,
        fields: { ...base, reason: 'the subscriber connection closed' },
      },
      { level: 'info', message: SUBSCRIBER_RECONNECTED, fields: base },
    ])
    expect(switches).toEqual([])
    expectNothingOnConsole()
  })

  it('LOG5 RedisRateLimitStore, Redis paused and resumed: the switch to the share with its error and the return are structured entries; nothing on console', async () => {
    const logger = recorder()
    const prefix = testPrefix('rl')
    const store = new RedisRateLimitStore({
      client: server.client({ lazyConnect: true }),
      prefix,
      logger,
      commandTimeoutMs: 80,
      failureThreshold: 1,
      recoveryCheckMs: 30,
      leaseFraction: 0,
    })
    closing.push(store)
    await store.ready()
    const guard = rateLimitGuard({ requests: 100, windowMs: 3_600_000, maxWaitMs: 0, store })
    expect(await guard.execute(() => 'shared', { service: 'svc' })).toBe('shared')
    const fellBack = next(store, 'fallback')
    const back = next(store, 'redis')
    server.pause()
    try {
      // The take times out: the call is answered from this process's share, the store falls back.
      expect(await guard.execute(() => 'from the share', { service: 'svc' })).toBe('from the share')
      await fellBack
    } finally {
      server.resume()
    }
    await back
    await store.whenIdle()

    const base = { component: 'RedisRateLimitStore', prefix }
    expect(logger.entries.map((e) => [e.level, e.message])).toEqual([
      ['warn', FALLBACK_ACTIVE],
      ['info', FALLBACK_ENDED],
    ])
    expect(logger.entries[0]!.fields).toMatchObject({
      ...base,
      from: 'redis',
      to: 'fallback',
      fallback: 'share',
      error: expect.stringMatching(/timed out/i),
      errorName: expect.any(String),
    })
    expect(logger.entries[1]!.fields).toEqual({ ...base, from: 'fallback', to: 'redis', fallback: 'share' })
    expectNothingOnConsole()
  })

  it('LOG4 LOG5 without a logger option both log to console, with the fields; a logger without warn() is a TypeError naming the option', async () => {
    const port = await freePort() // nothing listens there
    const dead = () => server.client({ port, lazyConnect: true })
    const backend = new RedisCircuitBackend({ client: dead(), prefix: testPrefix() })
    const store = new RedisRateLimitStore({ client: dead(), prefix: testPrefix('rl') })
    closing.push(backend, store)
    await Promise.all([next(backend, 'fallback'), next(store, 'fallback')])
    const warn = consoleSpies[CONSOLE.indexOf('warn')]!
    expect(warn).toHaveBeenCalledTimes(2)
    expect(warn).toHaveBeenCalledWith(
      FALLBACK_ACTIVE,
      expect.objectContaining({ component: 'RedisCircuitBackend', to: 'fallback', fallback: 'local' }),
    )
    expect(warn).toHaveBeenCalledWith(
      FALLBACK_ACTIVE,
      expect.objectContaining({ component: 'RedisRateLimitStore', to: 'fallback', fallback: 'share' }),
    )

    const client = server.client({ lazyConnect: true })
    expect(() => new RedisCircuitBackend({ client, logger: { info: () => {} } as never })).toThrow(
      /RedisCircuitBackend: option "logger" must be an object/,
    )
    expect(() => new RedisRateLimitStore({ client, logger: 'console' as never })).toThrow(TypeError)
  })
})
