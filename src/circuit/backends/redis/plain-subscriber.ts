import type { Redis } from 'ioredis'
import { closeConnection, connectBounded } from '../../../redis-common/connection.js'

/** Where invalidation messages come from: one connection (Redis), or one per shard (Cluster). */
export interface ChannelSubscriber {
  /** True once connected, until the connection is lost or closed. */
  readonly up: boolean
  /** Connects if needed, bounded by `timeoutMs`; rejects if it cannot. */
  connect(timeoutMs: number): Promise<void>
  /** Subscribes to a service's channel once (fire and forget: until confirmed, nothing is cached). */
  watch(channel: string, service: string): void
  /**
   * The number of the channel's confirmed subscription, undefined while there is none. A reply
   * may be cached only if the same subscription was there before its command was sent and still
   * is: a change published in between cannot have been missed.
   */
  since(channel: string): number | undefined
  /** Subscribes to `channel` and leaves it again: proves the ACL allows it (`ready()`). */
  probe(channel: string): Promise<void>
  close(): Promise<void>
}

/** What a subscriber reports to the backend. */
export interface SubscriberEvents {
  message(service: string, message: string): void
  /**
   * Subscriptions were lost: `services` had theirs dropped (undefined: every one, the connection
   * is down); `why` says how, for the log line.
   */
  lost(services: readonly string[] | undefined, why: string): void
}

let subscriptions = 0

/** A new subscription number (see `ChannelSubscriber.since`). */
export function nextSubscription(): number {
  return ++subscriptions
}

/**
 * The subscriber on a single Redis: one connection, SUBSCRIBE. A subscription can only be lost
 * with the connection, which reports it (`close` / `end`); the backend's background check
 * reconnects it.
 */
export class PlainSubscriber implements ChannelSubscriber {
  /** channel → the service and the number of its confirmed subscription. */
  private readonly active = new Map<string, { service: string; id: number }>()
  private readonly pending = new Set<string>()
  private connected = false

  constructor(
    private readonly sub: Redis,
    private readonly events: SubscriberEvents,
  ) {
    this.sub.on('error', () => {}) // errors surface as rejected commands
    this.sub.on('message', (channel: string, message: string) => {
      const entry = this.active.get(channel)
      if (entry !== undefined) this.events.message(entry.service, message)
    })
    this.sub.on('close', () => this.lost())
    this.sub.on('end', () => this.lost())
  }

  get up(): boolean {
    return this.connected
  }

  async connect(timeoutMs: number): Promise<void> {
    await connectBounded(this.sub, timeoutMs)
    this.connected = true
  }

  watch(channel: string, service: string): void {
    if (!this.connected || this.active.has(channel) || this.pending.has(channel)) return
    this.pending.add(channel)
    this.sub.subscribe(channel).then(
      () => {
        if (this.pending.delete(channel) && this.connected)
          this.active.set(channel, { service, id: nextSubscription() })
      },
      () => this.pending.delete(channel),
    )
  }

  since(channel: string): number | undefined {
    return this.connected ? this.active.get(channel)?.id : undefined
  }

  async probe(channel: string): Promise<void> {
    await this.sub.subscribe(channel)
    await this.sub.unsubscribe(channel)
  }

  private lost(): void {
    if (!this.connected) return
    this.connected = false
    this.active.clear()
    this.pending.clear()
    this.events.lost(undefined, 'the subscriber connection closed')
  }

  async close(): Promise<void> {
    this.connected = false
    this.active.clear()
    this.pending.clear()
    await closeConnection(this.sub)
  }
}
