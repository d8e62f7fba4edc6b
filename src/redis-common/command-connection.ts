import type { Cluster, Redis } from 'ioredis'
import { closeConnection, isCluster } from '../circuit/backends/redis/redis-link.js'

type Client = Redis | Cluster

export interface CommandConnectionOptions {
  /** CLIENT SETNAME of the connection, so operators can tell it apart. */
  name: string
  /** ioredis `commandTimeout`: a slower command fails (and counts as a backend error). */
  commandTimeoutMs: number
}

/**
 * A dedicated command connection duplicated from the application's client (D5): no offline queue
 * and a short command timeout, so a Redis that is down or hung fails a command at once instead of
 * queueing the call path behind it; no automatic reconnect, so nothing retries on the call path and
 * no reconnect timer outlives `close()` — the owner's background check reconnects (`connectWithin`).
 * Not connected until `connectWithin` is called.
 */
export function openCommandConnection(client: Client, o: CommandConnectionOptions): Client {
  let connection: Client
  if (isCluster(client)) {
    connection = client.duplicate([], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
      redisOptions: {
        ...client.options.redisOptions,
        commandTimeout: o.commandTimeoutMs,
        maxRetriesPerRequest: 1,
        connectionName: o.name,
      },
    })
  } else {
    connection = client.duplicate({
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      commandTimeout: o.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      connectionName: o.name,
    })
  }
  // Errors surface as rejected commands; the connection-level event must not crash the process.
  connection.on('error', () => {})
  return connection
}

/** Connects `client` if it is not usable, bounded by `timeoutMs`; rejects (and closes it) if it cannot. */
export async function connectWithin(client: Client, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return
  if (client.status !== 'end' && client.status !== 'wait' && client.status !== 'close') {
    // Half-way (connecting, reconnecting): start over so the attempt is bounded.
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
