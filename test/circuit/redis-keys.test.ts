/** D1, D7 on a real redis-server: one key per service name, never shared, never touched by ready(). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { breakerKey } from '../../src/circuit/backends/redis/redis-keys.js'
import { closeClient, type RedisServer, startRedis } from '../helpers/redis-server.js'
import { backendFactory, config } from './redis-fixtures.js'

let server: RedisServer
const backends = backendFactory(() => server.client({ lazyConnect: true }))
beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => server.stop())
afterEach(() => backends.closeAll())

describe('Redis circuit backend: keys (D1, D7)', () => {
  it('D7 service names are encoded one-to-one: lone surrogates never share a key, ordinary names stay readable', async () => {
    const b = backends.make()
    const redis = server.client()
    const c = config({ threshold: 1 })
    const names = ['svc\uD800', 'svc\uDBFF', 'svc\uFFFD', 'svc%uD800', 'svc\uD83D\uDE00', '', '%', '%ready']
    const keys = names.map((n) => breakerKey(backends.prefix, n))
    expect(new Set(keys).size).toBe(names.length)
    expect(breakerKey(backends.prefix, 'openai:gpt-4o')).toBe(`${backends.prefix}:cb:{openai:gpt-4o}`)
    expect(breakerKey(backends.prefix, 'svc\uD800')).toBe(`${backends.prefix}:cb:{svc%uD800}`)
    await b.record('svc\uD800', c, { outcome: 'failure' })
    expect(await b.snapshot('svc\uD800', c)).toMatchObject({ state: 'open' })
    for (const other of names.slice(1)) expect(await b.snapshot(other, c)).toMatchObject({ state: 'closed' })
    expect(await redis.keys(`${backends.prefix}*`)).toEqual([keys[0]])
    await closeClient(redis)
  })

  it('D7 ready() touches no key of a real service', async () => {
    const b = backends.make()
    const redis = server.client()
    const c = config()
    const services = ['__ready__', 'ready', '%ready', '{%ready}']
    for (const s of services) await b.record(s, c, { outcome: 'failure' })
    const keys = services.map((s) => breakerKey(backends.prefix, s))
    const before = await Promise.all(keys.map((k) => redis.hgetall(k)))
    await b.ready()
    expect(await Promise.all(keys.map((k) => redis.hgetall(k)))).toEqual(before)
    const scratch = (await redis.keys(`${backends.prefix}*`)).filter((k) => !keys.includes(k))
    expect(scratch).toEqual([`${backends.prefix}:cb:{%ready}`])
    await closeClient(redis)
  })
})
