import type { Cluster, Redis } from 'ioredis'
import { type Client, isCluster } from './connection.js'

export interface CommandConnectionOptions {
  /** CLIENT SETNAME of the connection, so operators can tell it apart. */
  name: string
  /** ioredis `commandTimeout`: a slower command fails (and counts as a backend error). */
  commandTimeoutMs: number
}

/**
 * A dedicated connection duplicated from the application's client (D5): no offline queue and a
 * short command timeout, so a Redis that is down or hung fails a command at once instead of
 * queueing the call path behind it; no automatic reconnect (nor resubscribe), so nothing retries
 * on the call path and no reconnect timer outlives `close()` — the owner's background check
 * reconnects (`connectBounded`). Not connected until then. Also what a plain subscriber uses.
 */
export function openCommandConnection(client: Redis, o: CommandConnectionOptions): Redis
export function openCommandConnection(client: Cluster, o: CommandConnectionOptions): Cluster
export function openCommandConnection(client: Client, o: CommandConnectionOptions): Client
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
      autoResubscribe: false,
      connectionName: o.name,
    })
  }
  // Errors surface as rejected commands; the connection-level event must not crash the process.
  connection.on('error', () => {})
  return connection
}
