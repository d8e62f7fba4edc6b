/**
 * A real Redis Cluster on free loopback ports, built with `redis-cli --cluster create`: 3 masters
 * (the default), or 3 masters + 3 replicas for the tests that fail a master over or kill it.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Cluster, type ClusterOptions, Redis } from 'ioredis'
import { closeClient, findRedisBinary, type RedisServer, startRedis } from './redis-server.js'

const run = promisify(execFile)

/** How long one admin command may take (a paused node never answers). */
const ADMIN_TIMEOUT_MS = 500
/** How long the helpers wait for the cluster to settle (create, failover) before failing. */
const SETTLE_TIMEOUT_MS = 20_000

export interface StartRedisClusterOptions {
  /** Replicas per master: 0 (3 nodes, the default) or 1 (6 nodes). */
  replicas?: 0 | 1
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before its replica takes over
   * (Redis adds about a second of election delay). Default 2 000 ms.
   */
  nodeTimeoutMs?: number
}

export interface RedisClusterHandle {
  /** Every node, in creation order (roles change with failovers: ask `masterOf`). */
  readonly nodes: readonly RedisServer[]
  /** Startup nodes for `new Cluster(...)`. */
  readonly startupNodes: readonly { host: string; port: number }[]
  /** A new ioredis Cluster client, disconnected by stop(). */
  client(options?: ClusterOptions): Cluster
  /** The node that serves `key`'s slot as master now, as the cluster itself reports it. */
  masterOf(key: string): Promise<RedisServer>
  /** A live replica of `master`. */
  replicaOf(master: RedisServer): Promise<RedisServer>
  /**
   * `CLUSTER FAILOVER [FORCE|TAKEOVER]` on `replica`; resolves once every live node agrees that it
   * serves its master's slots.
   */
  failover(replica: RedisServer, mode?: 'FORCE' | 'TAKEOVER'): Promise<void>
  /**
   * Resolves once every live node reports cluster_state:ok and the same owner for `key`'s slot —
   * one other than `notOwner` when given (after a kill: its replica has taken over).
   */
  settled(key?: string, notOwner?: RedisServer): Promise<void>
  /** Disconnects its clients and stops every node. */
  stop(): Promise<void>
}

/**
 * A short-lived plain connection to one node, for admin commands (a Cluster client would refresh
 * its slot map on MOVED in the background, past the end of a test).
 */
export async function withNode<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    // A paused (SIGSTOP) node accepts the connection but never answers: give up on it.
    connectTimeout: ADMIN_TIMEOUT_MS,
    commandTimeout: ADMIN_TIMEOUT_MS,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return await fn(client)
  } finally {
    await closeClient(client)
  }
}

function clusterState(port: number): Promise<string> {
  return withNode(port, async (client) => {
    const info = await client.cluster('INFO')
    return /cluster_state:(\w+)/.exec(String(info))?.[1] ?? 'unknown'
  })
}

/** The port of the master serving `slot`, as the node on `port` sees it. */
function ownerSeenBy(port: number, slot: number): Promise<number> {
  return withNode(port, async (client) => {
    const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][]
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    return range === undefined ? -1 : Number(range[2][1])
  })
}

async function isAlive(node: RedisServer): Promise<boolean> {
  try {
    return await withNode(node.port, async (client) => (await client.ping()) === 'PONG')
  } catch {
    return false
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Starts the nodes, assigns every slot, and resolves once each node reports cluster_state:ok. */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const cli = findRedisBinary('redis-cli')
  const replicas = options.replicas ?? 0
  const nodes: RedisServer[] = []
  const clients = new Set<Cluster>()
  const stop = async (): Promise<void> => {
    await Promise.all([...clients].map(closeClient))
    clients.clear()
    await Promise.all(nodes.map((node) => node.stop()))
  }
  const live = async (): Promise<RedisServer[]> => {
    const alive = await Promise.all(nodes.map(isAlive))
    return nodes.filter((_, i) => alive[i])
  }
  const slotOf = async (key: string): Promise<number> => {
    const [first] = await live()
    if (first === undefined) throw new Error('redis cluster: no live node')
    return withNode(first.port, async (client) => Number(await client.cluster('KEYSLOT', key)))
  }
  const settled = async (key = '', notOwner?: RedisServer): Promise<void> => {
    const slot = key === '' ? 0 : await slotOf(key)
    await until('a settled cluster', async () => {
      const up = await live()
      const states = await Promise.all(up.map((node) => clusterState(node.port)))
      if (!states.every((state) => state === 'ok')) return false
      const owners = await Promise.all(up.map((node) => ownerSeenBy(node.port, slot)))
      return owners.every((owner) => owner === owners[0] && owner > 0 && owner !== notOwner?.port)
    })
  }
  const byPort = (port: number): RedisServer => {
    const node = nodes.find((n) => n.port === port)
    if (node === undefined) throw new Error(`redis cluster: no node on port ${port}`)
    return node
  }
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 2_000),
            '--cluster-config-file',
            'nodes.conf',
          ],
        }),
      )
    }
    // --cluster-config-file is relative to --dir, which is each node's own temp dir.
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    await run(cli, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ])
    // The gossip that spreads the slot map takes a moment after `create` returns: wait for it.
    await settled()
    if (replicas > 0) {
      // Replicas must have synced before a failover can promote one of them.
      await until('replicas in sync', async () => {
        const links = await Promise.all(
          nodes.map((node) =>
            withNode(node.port, async (client) => {
              const info = String(await client.info('replication'))
              return !info.includes('role:slave') || info.includes('master_link_status:up')
            }),
          ),
        )
        return links.every(Boolean)
      })
    }
  } catch (error) {
    await stop()
    throw error
  }
  const startupNodes = nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  return {
    nodes,
    startupNodes,
    client(clientOptions?: ClusterOptions): Cluster {
      const client = new Cluster(startupNodes, clientOptions)
      client.on('error', () => {})
      clients.add(client)
      return client
    },
    async masterOf(key: string): Promise<RedisServer> {
      const slot = await slotOf(key)
      const [first] = await live()
      return byPort(await ownerSeenBy(first!.port, slot))
    },
    async replicaOf(master: RedisServer): Promise<RedisServer> {
      const id = await withNode(master.port, async (client) => String(await client.cluster('MYID')))
      for (const node of await live()) {
        const role = await withNode(node.port, async (client) => String(await client.cluster('NODES')))
        const me = role.split('\n').find((line) => line.includes('myself'))
        if (me !== undefined && me.split(' ')[3] === id) return node
      }
      throw new Error(`redis cluster: no live replica of the master on port ${master.port}`)
    },
    async failover(replica: RedisServer, mode?: 'FORCE' | 'TAKEOVER'): Promise<void> {
      await withNode(replica.port, (client) =>
        mode === undefined ? client.call('CLUSTER', 'FAILOVER') : client.call('CLUSTER', 'FAILOVER', mode),
      )
      await until('the failover', async () => {
        const role = await withNode(replica.port, async (client) => (await client.role())[0])
        return role === 'master'
      })
      const slots = await withNode(replica.port, async (client) => {
        const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][]
        return ranges.find(([, , [, port]]) => Number(port) === replica.port)?.[0] ?? 0
      })
      await until('every node to see the new master', async () => {
        const owners = await Promise.all((await live()).map((node) => ownerSeenBy(node.port, slots)))
        return owners.every((owner) => owner === replica.port)
      })
    },
    settled,
    stop,
  }
}
