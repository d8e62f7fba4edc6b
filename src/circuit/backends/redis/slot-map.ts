import type { Cluster } from 'ioredis'
import { CLUSTER_SLOTS, keySlot } from './key-slot.js'

type SlotRange = { from: number; to: number; master: string | undefined; nodes: ReadonlySet<string> }

/**
 * Which node serves which slot, as the Cluster says (`host:port` keys): each slot's master, and
 * every live node of its shard (a shard's replicas receive its sharded messages too). Read with
 * CLUSTER SHARDS (Redis >= 7), or CLUSTER SLOTS where an ACL allows only what ioredis itself needs.
 */
export class SlotMap {
  private masters: (string | undefined)[] = new Array<string | undefined>(CLUSTER_SLOTS)
  private shards: (ReadonlySet<string> | undefined)[] = new Array<ReadonlySet<string> | undefined>(
    CLUSTER_SLOTS,
  )

  constructor(private readonly cmd: Cluster) {}

  /** Reads the map again (one command, on any node). */
  async read(): Promise<void> {
    let ranges: SlotRange[]
    try {
      ranges = fromShards((await this.cmd.call('CLUSTER', 'SHARDS')) as unknown[][])
    } catch {
      ranges = fromSlots((await this.cmd.cluster('SLOTS')) as unknown as unknown[][])
    }
    const masters = new Array<string | undefined>(CLUSTER_SLOTS)
    const shards = new Array<ReadonlySet<string> | undefined>(CLUSTER_SLOTS)
    for (const { from, to, master, nodes } of ranges) {
      masters.fill(master, from, to + 1)
      shards.fill(nodes, from, to + 1)
    }
    this.masters = masters
    this.shards = shards
  }

  /** The master of `channel`'s slot, if the map knows one. */
  master(channel: string): string | undefined {
    return this.masters[keySlot(channel)]
  }

  /** True when `node` is a live node of the shard serving `channel`'s slot. */
  serves(channel: string, node: string): boolean {
    return this.shards[keySlot(channel)]?.has(node) === true
  }
}

/** A RESP2 map (`[name, value, name, value…]`) as a Map. */
function pairs(list: unknown[]): Map<string, unknown> {
  const map = new Map<string, unknown>()
  for (let i = 0; i + 1 < list.length; i += 2) map.set(String(list[i]), list[i + 1])
  return map
}

/** CLUSTER SHARDS: per shard its slot ranges and its nodes with role and health. */
function fromShards(shards: unknown[][]): SlotRange[] {
  const out: SlotRange[] = []
  for (const shard of shards) {
    const fields = pairs(shard)
    const slots = (fields.get('slots') ?? []) as unknown[]
    const live = ((fields.get('nodes') ?? []) as unknown[][])
      .map(pairs)
      .filter((n) => n.get('health') !== 'fail')
    const key = (n: Map<string, unknown>): string => `${String(n.get('ip'))}:${String(n.get('port'))}`
    const master = live.find((n) => n.get('role') === 'master')
    const nodes = new Set(live.map(key))
    for (let i = 0; i + 1 < slots.length; i += 2) {
      out.push({ from: Number(slots[i]), to: Number(slots[i + 1]), master: master && key(master), nodes })
    }
  }
  return out
}

/** CLUSTER SLOTS: per range its master, then the replicas Redis considers available. */
function fromSlots(ranges: unknown[][]): SlotRange[] {
  return ranges.map(([from, to, ...served]) => {
    const nodes = (served as unknown[][]).map(([host, port]) => `${String(host)}:${String(port)}`)
    return { from: Number(from), to: Number(to), master: nodes[0], nodes: new Set(nodes) }
  })
}
