import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { closeClient, findRedisBinary, type RedisServer, startRedis } from '../helpers/redis-server.js'

describe('real Redis test infrastructure', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('starts a private server on a free loopback port, never 6379', async () => {
    expect(server.port).not.toBe(6379)
    const client = server.client()
    expect(await client.ping()).toBe('PONG')
    expect(await client.config('GET', 'save')).toEqual(['save', ''])
    await closeClient(client)
  })

  it('kill then restart gives an empty server on the same port', async () => {
    const client = server.client()
    await client.set('k', '1')
    await server.kill()
    await server.restart()
    const fresh = server.client()
    expect(await fresh.get('k')).toBeNull()
    await closeClient(client)
    await closeClient(fresh)
  })

  it('names the package to install when a binary is missing', () => {
    const path = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      // Only meaningful on machines where redis-cli is not in the fallback dirs; the message is what matters.
      let message = ''
      try {
        findRedisBinary('redis-no-such-binary' as 'redis-cli')
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toContain('not found: install it with `apt-get install redis-server`')
    } finally {
      process.env.PATH = path
    }
  })

  it('starts a 3-master cluster that reaches cluster_state:ok', async () => {
    const cluster = await startRedisCluster()
    try {
      const client = cluster.client()
      await client.set('{a}x', '1')
      await client.set('{b}x', '2')
      expect(await client.get('{b}x')).toBe('2')
      const masters = client.nodes('master')
      expect(masters).toHaveLength(3)
    } finally {
      await cluster.stop()
    }
  }, 30_000)
})
