import type { Cluster, Redis } from 'ioredis'

export type Client = Redis | Cluster

/** True for an ioredis Cluster (by shape: a second copy of ioredis must work too). */
export function isCluster(client: unknown): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true
}

/** True for something that looks like an ioredis client or cluster. */
export function isRedisClient(client: unknown): client is Client {
  const c = client as Partial<Redis> | null
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.duplicate === 'function' &&
    typeof c.defineCommand === 'function' &&
    typeof (c as { isCluster?: unknown }).isCluster === 'boolean'
  )
}

/** How long `close()` waits for a Cluster node's socket to go after the Cluster itself ended. */
const NODE_CLOSE_WAIT_MS = 2_000

/**
 * Closes an ioredis connection and resolves once its sockets are gone (no stray timers). A Cluster
 * reports 'end' before its node connections have closed their sockets, so those are awaited too.
 */
export async function closeConnection(client: Client): Promise<void> {
  const nodes = isCluster(client) ? client.nodes('all') : []
  await closeOne(client)
  await Promise.all(nodes.map((node) => closeOne(node, NODE_CLOSE_WAIT_MS)))
}

function closeOne(client: Client, waitAtMostMs?: number): Promise<void> {
  if (client.status === 'end') return Promise.resolve()
  const socketless = client.status === 'reconnecting' || client.status === 'close' || client.status === 'wait'
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = (): void => {
      clearTimeout(timer)
      resolve()
    }
    client.once('end', done)
    client.disconnect()
    if (socketless || client.status === 'end') done()
    else if (waitAtMostMs !== undefined) timer = setTimeout(done, waitAtMostMs)
  })
}

/**
 * Connects a connection that is not usable, bounded by `timeoutMs`; a half-way one (connecting,
 * reconnecting) is closed and started over so the attempt is bounded. Rejects if it fails.
 */
export async function connectBounded(client: Client, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return
  if (client.status !== 'end' && client.status !== 'wait' && client.status !== 'close') {
    await closeConnection(client)
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const attempt = client.connect()
  const bounded = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis connect timed out after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([attempt, bounded])
  } catch (error) {
    attempt.catch(() => {})
    await closeConnection(client)
    throw error
  } finally {
    clearTimeout(timer)
  }
}
