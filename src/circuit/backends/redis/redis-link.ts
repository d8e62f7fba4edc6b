import type { Clock } from '../../../core/clock.js'
import { openCommandConnection } from '../../../redis-common/command-connection.js'
import { type Client, closeConnection, connectBounded, isCluster } from '../../../redis-common/connection.js'
import { type ChannelSubscriber, PlainSubscriber, type SubscriberEvents } from './plain-subscriber.js'
import { checkChannel } from './redis-keys.js'
import { defineScripts, runCheck } from './redis-scripts.js'
import { ShardedSubscriber } from './sharded-subscriber.js'

/** The name of every connection the backend opens (CLIENT LIST shows whose they are). */
export const CONNECTION_NAME = 'breakwater-circuit'

export interface RedisLinkOptions {
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
  /** Cluster only: how often sharded subscriptions are checked against the slot map. */
  readonly subscriptionCheckMs: number
  readonly clock: Clock
  readonly track: (work: Promise<unknown>) => void
}

/**
 * The backend's dedicated connections (D5): commands (no offline queue, short timeout, no
 * automatic reconnect — the backend's background check reconnects, so nothing retries on the
 * call path and no reconnect timer outlives `close()`), and a subscriber for invalidations:
 * SUBSCRIBE on one connection (Redis), SSUBSCRIBE on one connection per master (Cluster, see
 * ShardedSubscriber).
 */
export class RedisLink {
  readonly cluster: boolean
  readonly cmd: Client
  readonly subscriber: ChannelSubscriber

  constructor(client: Client, o: RedisLinkOptions, events: SubscriberEvents) {
    this.cluster = isCluster(client)
    const connection = { name: CONNECTION_NAME, commandTimeoutMs: o.commandTimeoutMs }
    if (isCluster(client)) {
      const cmd = openCommandConnection(client, connection)
      this.cmd = cmd
      this.subscriber = new ShardedSubscriber(
        cmd,
        {
          commandTimeoutMs: o.commandTimeoutMs,
          connectTimeoutMs: o.connectTimeoutMs,
          checkMs: o.subscriptionCheckMs,
          clock: o.clock,
          connectionName: CONNECTION_NAME,
          track: o.track,
        },
        events,
      )
    } else {
      this.cmd = openCommandConnection(client, connection)
      this.subscriber = new PlainSubscriber(openCommandConnection(client, connection), events)
    }
    defineScripts(this.cmd)
  }

  /** The number of the channel's confirmed subscription (see ChannelSubscriber.since). */
  since(channel: string): number | undefined {
    return this.subscriber.since(channel)
  }

  /** Subscribes to a service's channel once (fire and forget). */
  watch(channel: string, service: string): void {
    this.subscriber.watch(channel, service)
  }

  /** Connects whichever connection is down; rejects if either cannot be used. */
  async connect(timeoutMs: number): Promise<void> {
    await connectBounded(this.cmd, timeoutMs)
    await this.subscriber.connect(timeoutMs)
  }

  /**
   * The background check that brings the backend back from its fallback (D7): connections up, the
   * read-only check script run on `key` (through EVALSHA / EVAL, on the shard that owns it), and a
   * message published on the key's check channel. It passes only when the breaker scripts can run
   * and publish, so an ACL user without EVAL or PUBLISH keeps the fallback instead of flapping.
   */
  async check(key: string, timeoutMs: number): Promise<void> {
    await this.connect(timeoutMs)
    await runCheck(this.cmd, key)
    const channel = checkChannel(key)
    await (this.cluster ? this.cmd.spublish(channel, 'check') : this.cmd.publish(channel, 'check'))
  }

  async close(): Promise<void> {
    await Promise.all([closeConnection(this.cmd), this.subscriber.close()])
  }
}
