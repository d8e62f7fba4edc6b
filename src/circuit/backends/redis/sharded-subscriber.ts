import type { Cluster, Redis } from 'ioredis'
import { setTimer, type Clock } from '../../../core/clock.js'
import { type ChannelSubscriber, nextSubscription, type SubscriberEvents } from './plain-subscriber.js'
import { closeConnection, connectBounded } from '../../../redis-common/connection.js'
import { EndedNodes } from './ended-nodes.js'
import { SlotMap } from './slot-map.js'

/** How long a node that ended our subscriptions is not trusted as a slot's master (see EndedNodes). */
const ENDED_GRACE_MS = 2_000
/** How soon the slot map is read again while it still names such a node. */
const MAP_RETRY_MS = 50

export interface ShardedSubscriberOptions {
  /** Command timeout of each node connection. */
  readonly commandTimeoutMs: number
  /** Bound on connecting one node connection. */
  readonly connectTimeoutMs: number
  /** How often the slot map is compared with where the subscriptions are (D7). */
  readonly checkMs: number
  readonly clock: Clock
  readonly connectionName: string
  /** Keeps background work (checks, closing connections) until it settles. */
  readonly track: (work: Promise<unknown>) => void
}

/** One connection to one master, holding the subscriptions of the channels in its slots. */
interface NodeLink {
  readonly node: string
  readonly conn: Redis
  readonly ready: Promise<void>
  readonly channels: Set<string>
  dropped: boolean
}

interface Placement {
  readonly node: string
  readonly service: string
  /** The confirmed subscription's number (see ChannelSubscriber.since); undefined until then. */
  id: number | undefined
}

/** ioredis reports a subscription Redis ended by itself (failover, migration) as this error. */
const SERVER_UNSUBSCRIBED = /Last reply: sunsubscribe,/

/**
 * Sharded pub/sub on a Cluster (SSUBSCRIBE), one plain connection per master, managed here rather
 * than by ioredis' sharded subscriber group, which loses a subscription silently when Redis ends
 * it without a disconnect (D7). A subscription counts as lost, and every channel on its node
 * connection is dropped at once (their cached states stop answering calls), when:
 * - Redis ends it itself (a failover or slot migration sends `sunsubscribe`),
 * - an SSUBSCRIBE is answered MOVED (the slot map changed),
 * - the connection closes (the master died),
 * - the periodic check (every `checkMs`, one CLUSTER SHARDS) finds that its node is no longer in
 *   the shard serving the channel's slot (a hung master replaced by its replica sends nothing).
 * A subscription may stay on any live node of the right shard: Redis delivers a shard's messages
 * to its replicas' subscribers too, so an old master demoted by a failover keeps serving it.
 * Dropped channels are subscribed again, on the slot's current master (the map is read again
 * first), the next time a command for their service runs; until confirmed, nothing learned for
 * them is cached. A map that still names the node that just ended them (read from a node that has
 * not heard of the failover yet) is read again until it names another, for up to 2 s: placed on the
 * old master, a subscription hears none of the new master's messages.
 */
export class ShardedSubscriber implements ChannelSubscriber {
  private readonly links = new Map<string, NodeLink>()
  private readonly placed = new Map<string, Placement>()
  private readonly map: SlotMap
  /** A slot map refresh under way: placements wait for it (after a loss the old map is suspect). */
  private refreshing: Promise<void> | undefined
  /** Channels waiting for that refresh before they are placed. */
  private readonly waiting = new Set<string>()
  private connected = false
  private cancelCheck: (() => void) | undefined
  private readonly endedNodes: EndedNodes
  /** Timers of placements waiting for a map that no longer names an ended node. */
  private readonly retries = new Set<() => void>()

  constructor(
    private readonly cmd: Cluster,
    private readonly o: ShardedSubscriberOptions,
    private readonly events: SubscriberEvents,
  ) {
    this.map = new SlotMap(cmd)
    this.endedNodes = new EndedNodes(o.clock, ENDED_GRACE_MS)
  }

  get up(): boolean {
    return this.connected
  }

  /** Reads the slot map (again: also after an outage, when it may have changed). */
  async connect(): Promise<void> {
    await this.map.read()
    this.connected = true
  }

  watch(channel: string, service: string): void {
    if (!this.connected || this.placed.has(channel) || this.waiting.has(channel)) return
    if (this.refreshing !== undefined) {
      this.waiting.add(channel)
      void this.refreshing.then(() => {
        this.waiting.delete(channel)
        this.watch(channel, service)
      })
      return
    }
    const node = this.map.master(channel)
    if (node !== undefined && this.endedNodes.suspect(node)) return this.placeLater(channel, service)
    const link = node === undefined ? undefined : this.link(node)
    if (link === undefined) return // no map or no template yet: the next command tries again
    const placement: Placement = { node: link.node, service, id: undefined }
    this.placed.set(channel, placement)
    link.channels.add(channel)
    this.scheduleCheck()
    link.ready
      .then(() => link.conn.ssubscribe(channel))
      .then(
        () => {
          if (this.placed.get(channel) === placement && !link.dropped) placement.id = nextSubscription()
        },
        () => {
          if (this.placed.get(channel) !== placement) return
          this.placed.delete(channel)
          link.channels.delete(channel)
        },
      )
  }

  /** Places `channel` once a fresh slot map names another master than the node that ended it. */
  private placeLater(channel: string, service: string): void {
    this.waiting.add(channel)
    const cancel = setTimer(this.o.clock, MAP_RETRY_MS, () => {
      this.retries.delete(cancel)
      this.refresh()
      const placed = (this.refreshing ?? Promise.resolve()).then(() => {
        this.waiting.delete(channel)
        this.watch(channel, service)
      })
      this.o.track(placed)
    })
    this.retries.add(cancel)
  }

  since(channel: string): number | undefined {
    return this.connected ? this.placed.get(channel)?.id : undefined
  }

  async probe(channel: string): Promise<void> {
    await this.map.read()
    const node = this.map.master(channel)
    const link = node === undefined ? undefined : this.link(node)
    if (link === undefined) throw new Error(`no master serves the slot of ${channel}`)
    await link.ready
    await link.conn.ssubscribe(channel)
    await link.conn.sunsubscribe(channel)
  }

  async close(): Promise<void> {
    this.connected = false
    this.cancelCheck?.()
    this.cancelCheck = undefined
    for (const cancel of this.retries) cancel()
    this.retries.clear()
    this.waiting.clear()
    const links = [...this.links.values()]
    this.links.clear()
    this.placed.clear()
    for (const link of links) link.dropped = true
    await Promise.all(links.map((link) => closeConnection(link.conn)))
  }

  /** Runs the periodic check now (also what the timer runs). */
  async check(): Promise<void> {
    if (this.placed.size === 0) return
    try {
      await this.map.read()
    } catch {
      return // no node answered: the next check tries again; commands fail meanwhile anyway
    }
    let moved = false
    for (const link of [...this.links.values()]) {
      for (const channel of link.channels) {
        if (!this.map.serves(channel, link.node)) {
          this.drop(link, 'its node no longer serves the slot')
          moved = true
          break
        }
      }
    }
    // Nothing told the command connection either (a hung master sends no MOVED): have ioredis read
    // the slot map now rather than at its next periodic refresh, so commands find the new master.
    if (moved) (this.cmd as { refreshSlotsCache?: () => void }).refreshSlotsCache?.()
  }

  private scheduleCheck(): void {
    if (this.cancelCheck !== undefined || !this.connected || this.placed.size === 0) return
    this.cancelCheck = setTimer(this.o.clock, this.o.checkMs, () => {
      this.cancelCheck = undefined
      const run = this.check().finally(() => this.scheduleCheck())
      this.o.track(run)
    })
  }

  /** Refreshes the slot map once for everyone waiting (after a loss); failures are left to the check. */
  private refresh(): void {
    if (this.refreshing !== undefined || !this.connected) return
    const done = this.map
      .read()
      .catch(() => {})
      .finally(() => {
        if (this.refreshing === done) this.refreshing = undefined
      })
    this.refreshing = done
    this.o.track(done)
  }

  /** The node's connection, made (and connecting) if there is none. */
  private link(node: string): NodeLink | undefined {
    const existing = this.links.get(node)
    if (existing !== undefined) return existing
    // A node connection of the command Cluster carries the user's options (auth, TLS): copy it.
    const template = this.cmd.nodes('all')[0]
    if (template === undefined) return undefined
    const at = node.lastIndexOf(':')
    const conn = template.duplicate({
      host: node.slice(0, at),
      port: Number(node.slice(at + 1)),
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      readOnly: false,
      autoResubscribe: false,
      retryStrategy: () => null,
      commandTimeout: this.o.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      connectionName: this.o.connectionName,
    })
    const link: NodeLink = {
      node,
      conn,
      ready: connectBounded(conn, this.o.connectTimeoutMs),
      channels: new Set(),
      dropped: false,
    }
    this.links.set(node, link)
    link.ready.catch(() => this.drop(link, 'cannot connect to the node'))
    conn.on('error', (error: Error) => {
      if (SERVER_UNSUBSCRIBED.test(error.message)) {
        this.endedNodes.ended(node)
        this.drop(link, 'Redis ended it (failover or slot migration)')
      }
    })
    conn.on('moved', () => {
      this.endedNodes.ended(node)
      this.drop(link, 'MOVED: the slot has another master')
    })
    conn.on('close', () => this.drop(link, 'the connection to the node closed'))
    conn.on('smessage', (channel: string, message: string) => {
      const placement = this.placed.get(channel)
      if (placement !== undefined && placement.node === node && !link.dropped) {
        this.events.message(placement.service, message)
      }
    })
    return link
  }

  /** Drops a node connection and every subscription on it; the services' caches stop answering. */
  private drop(link: NodeLink, why: string): void {
    if (link.dropped) return
    link.dropped = true
    if (this.links.get(link.node) === link) this.links.delete(link.node)
    // Only confirmed subscriptions were lost: a pending one was never trusted, nothing to report.
    const services: string[] = []
    for (const channel of link.channels) {
      const placement = this.placed.get(channel)
      if (placement?.node !== link.node) continue
      this.placed.delete(channel)
      if (placement.id !== undefined) services.push(placement.service)
    }
    link.channels.clear()
    this.o.track(closeConnection(link.conn))
    if (!this.connected) return
    this.refresh() // whatever ended it, the map that sent the subscription there is suspect
    if (services.length > 0) this.events.lost(services, `${why} (${link.node})`)
  }
}
