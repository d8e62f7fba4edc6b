/**
 * A real 3-master Redis Cluster on free loopback ports, built with `redis-cli --cluster create`,
 * for the tests that must prove hash tags and sharded pub/sub work (no CROSSSLOT).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions, Redis } from 'ioredis'
import { closeClient, findRedisBinary, type RedisServer, startRedis } from './redis-server.js'

const run = promisify(execFile)

export interface RedisClusterHandle {
  /** The three master servers. */
  readonly nodes: readonly RedisServer[]
  /** Startup nodes for `new Cluster(...)`. */
  readonly startupNodes: readonly { host: string; port: number }[]
  /** A new ioredis Cluster client, disconnected by stop(). */
  client(options?: ClusterOptions): Cluster
  /** Disconnects its clients and stops every node. */
  stop(): Promise<void>
}

async function clusterState(port: number): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: true })
  client.on('error', () => {})
  try {
    await client.connect()
    const info = await client.cluster('INFO')
    return /cluster_state:(\w+)/.exec(String(info))?.[1] ?? 'unknown'
  } finally {
    await closeClient(client)
  }
}

/** Starts 3 masters, assigns every slot, and resolves once each node reports cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const cli = findRedisBinary('redis-cli')
  const nodes: RedisServer[] = []
  const clients = new Set<Cluster>()
  const stop = async (): Promise<void> => {
    await Promise.all([...clients].map(closeClient))
    clients.clear()
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-node-timeout',
            '2000',
            '--cluster-config-file',
            'nodes.conf',
          ],
        }),
      )
    }
    // --cluster-config-file is relative to --dir, which is each node's own temp dir.
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    // The gossip that spreads the slot map takes a moment after `create` returns: wait for it.
    const deadline = Date.now() + 20_000
    for (;;) {
      const states = await Promise.all(nodes.map((node) => clusterState(node.port)))
      if (states.every((state) => state === 'ok')) break
      if (Date.now() > deadline)
        throw new Error(`cluster did not reach cluster_state:ok (${states.join(', ')})`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } catch (error) {
    await stop()
    throw error
  }
  const startupNodes = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  return {
    nodes,
    startupNodes,
    client(options?: ClusterOptions): Cluster {
      const client = new Cluster(startupNodes, options)
      client.on('error', () => {})
      clients.add(client)
      return client
    },
    stop,
  }
}
