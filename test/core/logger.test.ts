import { describe, expect, it, vi } from 'vitest'
import { Gauge, Registry } from 'prom-client'
import { consoleLogger, errorFields, resolveLogger, withFields } from '../../src/core/logger.js'
import { serveMetrics } from '../../src/metrics/serve-metrics.js'

describe('logger', () => {
  it('LOG1 resolveLogger: console by default; methods keep their this; missing levels fall back; a bad logger is a TypeError naming the option', () => {
    expect(resolveLogger('x', undefined)).toBe(consoleLogger)
    const lines: unknown[][] = []
    const pinoLike = {
      prefix: 'app',
      debug(this: { prefix: string }, m: string, f?: object) {
        lines.push([this.prefix, 'debug', m, f])
      },
      info(this: { prefix: string }, m: string, f?: object) {
        lines.push([this.prefix, 'info', m, f])
      },
      warn(this: { prefix: string }, m: string, f?: object) {
        lines.push([this.prefix, 'warn', m, f])
      },
      error(this: { prefix: string }, m: string, f?: object) {
        lines.push([this.prefix, 'error', m, f])
      },
    }
    const log = resolveLogger('x', pinoLike)
    log.info('started', { service: 'openai:gpt-4o' })
    log.error('failed')
    expect(lines).toEqual([
      ['app', 'info', 'started', { service: 'openai:gpt-4o' }],
      ['app', 'error', 'failed', undefined],
    ])
    const warnings: unknown[] = []
    const minimal = resolveLogger('x', { warn: (m: string, f?: object) => warnings.push([m, f]) })
    minimal.debug('noise')
    minimal.info('noise')
    minimal.error('bad', { a: 1 })
    expect(warnings).toEqual([['bad', { a: 1 }]])
    expect(() => resolveLogger('redisBackend', { info: () => {} })).toThrow(
      /redisBackend: option "logger" must be an object with debug\/info\/warn\/error/,
    )
    expect(() => resolveLogger('x', 'console')).toThrow(TypeError)
  })

  it('LOG2 consoleLogger writes the message with its fields to the console level of the same name', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      consoleLogger.warn('w', { service: 's' })
      consoleLogger.error('e')
      expect(warn).toHaveBeenCalledWith('w', { service: 's' })
      expect(error).toHaveBeenCalledWith('e')
    } finally {
      warn.mockRestore()
      error.mockRestore()
    }
    const e = Object.assign(new Error('boom'), { code: 'ECONNREFUSED' })
    expect(errorFields(e)).toEqual({ error: 'boom', errorName: 'Error', errorCode: 'ECONNREFUSED' })
    expect(errorFields('text')).toEqual({ error: 'text' })
  })

  it("LOG3 withFields adds its fields to every entry at every level; an entry's own fields win", () => {
    const seen: unknown[][] = []
    const record =
      (level: string) =>
      (m: string, f?: object): number =>
        seen.push([level, m, f])
    const base = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    }
    const log = withFields(base, { component: 'c', prefix: 'p' })
    log.debug('d')
    log.info('i', { service: 's' })
    log.warn('w', { prefix: 'own' })
    log.error('e', {})
    expect(seen).toEqual([
      ['debug', 'd', { component: 'c', prefix: 'p' }],
      ['info', 'i', { component: 'c', prefix: 'p', service: 's' }],
      ['warn', 'w', { component: 'c', prefix: 'own' }],
      ['error', 'e', { component: 'c', prefix: 'p' }],
    ])
  })

  it('LOG6 a logger with warn() only is accepted by a component option as its type says: error entries reach warn', async () => {
    const warned: unknown[][] = []
    const registry = new Registry()
    new Gauge({
      name: 'always_fails',
      help: 'a broken collect',
      registers: [registry],
      collect: () => {
        throw new Error('boom')
      },
    })
    // Type-checked too: `{ warn }` alone is a valid `logger` option.
    const server = await serveMetrics(registry, { logger: { warn: (m, f) => warned.push([m, f]) } })
    expect((await fetch(server.url)).status).toBe(500)
    await server.close()
    expect(warned).toEqual([
      [expect.any(String), expect.objectContaining({ component: 'serveMetrics', error: 'boom' })],
    ])
  })
})
