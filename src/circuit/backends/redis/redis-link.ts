import type { Cluster, Redis } from 'ioredis'
import { defineScripts } from './redis-scripts.js'

type Client = Redis | Cluster

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
 * The backend's two dedicated connections (D5): commands (no offline queue, short timeout, no
 * automatic reconnect — the backend's background check reconnects, so nothing retries on the
 * call path and no reconnect timer outlives `close()`), and a subscriber for invalidations
 * (SSUBSCRIBE on a Cluster, SUBSCRIBE otherwise).
 */
export class RedisLink {
  readonly cluster: boolean
  readonly cmd: Client
  readonly sub: Client
  /** channel → service, for channels whose subscription is confirmed. */
  private readonly active = new Map<string, string>()
  private readonly pending = new Set<string>()
  private subUp = false

  constructor(
    client: Client,
    commandTimeoutMs: number,
    private readonly onMessage: (service: string, message: string) => void,
    private readonly onSubscriberLost: () => void,
  ) {
    this.cluster = isCluster(client)
    const name = 'breakwater-circuit'
    if (isCluster(client)) {
      const redisOptions = {
        ...client.options.redisOptions,
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 1,
        connectionName: name,
      }
      const base = {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
        redisOptions,
      }
      this.cmd = client.duplicate([], base)
      this.sub = client.duplicate([], { ...base, shardedSubscribers: true })
    } else {
      const base = {
        lazyConnect: true,
        enableOfflineQueue: false,
        enableReadyCheck: false,
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
        autoResubscribe: false,
        connectionName: name,
      }
      this.cmd = client.duplicate(base)
      this.sub = client.duplicate(base)
    }
    // Errors surface as rejected commands; the connection-level event must not crash the process.
    this.cmd.on('error', () => {})
    this.sub.on('error', () => {})
    defineScripts(this.cmd)
    const deliver = (channel: string, message: string): void => {
      const service = this.active.get(channel)
      if (service !== undefined) this.onMessage(service, message)
    }
    this.sub.on(this.cluster ? 'smessage' : 'message', deliver)
    this.sub.on('close', () => this.lost())
    this.sub.on('end', () => this.lost())
  }

  /** True when the subscriber is up and `channel` is confirmed: only then may replies be cached. */
  listening(channel: string): boolean {
    return this.subUp && this.active.has(channel)
  }

  /** Subscribes to a service's channel once (fire and forget: until confirmed, nothing is cached). */
  watch(channel: string, service: string): void {
    if (!this.subUp || this.active.has(channel) || this.pending.has(channel)) return
    this.pending.add(channel)
    const done = this.cluster ? this.sub.ssubscribe(channel) : this.sub.subscribe(channel)
    done.then(
      () => {
        if (this.pending.delete(channel) && this.subUp) this.active.set(channel, service)
      },
      () => this.pending.delete(channel),
    )
  }

  get subscriberUp(): boolean {
    return this.subUp
  }

  /** Connects whichever connection is down; rejects if either cannot be used. */
  async connect(timeoutMs: number): Promise<void> {
    await Promise.all([this.ensure(this.cmd, timeoutMs), this.ensure(this.sub, timeoutMs)])
    if (!this.subUp) {
      this.subUp = true
    }
  }

  /** Connects one connection if it is not usable, bounded by `timeoutMs`. */
  private async ensure(client: Client, timeoutMs: number): Promise<void> {
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

  private lost(): void {
    if (!this.subUp) return
    this.subUp = false
    this.active.clear()
    this.pending.clear()
    this.onSubscriberLost()
  }

  async close(): Promise<void> {
    this.subUp = false
    this.active.clear()
    this.pending.clear()
    await Promise.all([closeConnection(this.cmd), closeConnection(this.sub)])
  }
}
