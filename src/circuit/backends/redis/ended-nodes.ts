import type { Clock } from '../../../core/clock.js'

/**
 * Nodes that just ended our sharded subscriptions themselves (`sunsubscribe`, MOVED: a failover or
 * a migration took their slots away). Right after, a slot map read from a node that has not heard
 * of the change yet can still name such a node the master, and a subscription placed there hears
 * none of the new master's messages. So for `graceMs` a placement on one of them waits for a map
 * that names another master.
 */
export class EndedNodes {
  private readonly at = new Map<string, number>()

  constructor(
    private readonly clock: Clock,
    private readonly graceMs: number,
  ) {}

  ended(node: string): void {
    this.at.set(node, this.clock.now())
  }

  /** True while `node` ended our subscriptions less than `graceMs` ago. */
  suspect(node: string): boolean {
    const t = this.at.get(node)
    if (t === undefined) return false
    if (this.clock.now() - t < this.graceMs) return true
    this.at.delete(node)
    return false
  }
}
