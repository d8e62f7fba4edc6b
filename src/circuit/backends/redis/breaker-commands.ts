import type { CircuitConfig } from '../../circuit-backend.js'
import type { BackendHealth } from '../../../redis-common/backend-health.js'
import { OrphanProbes } from './orphan-probes.js'
import { breakerChannel, breakerKey, encodedConfig } from './redis-keys.js'
import type { RedisLink } from './redis-link.js'
import { runScript, type ScriptName, type ScriptReply } from './redis-scripts.js'
import type { SharedView } from './shared-view.js'

/**
 * Redis answered with less than this process knew: the hash is gone (`reply.fresh`) or older than
 * the newest generation seen (`known`). Resolves with what Redis holds once the loss is dealt with
 * (the re-asserted state), or undefined when there was nothing to put back.
 */
export type LossHandler = (
  service: string,
  config: CircuitConfig,
  reply: ScriptReply,
  known: number,
) => Promise<ScriptReply | undefined>

/**
 * The shared breaker's operations, each one script round trip on the service's hash: it
 * subscribes to the service's channel, sends the common arguments (lua/prelude.ts), learns the
 * reply, and counts Redis errors (a refused invalidation message included) toward the fallback
 * instead of passing them to the caller.
 */
export class BreakerCommands {
  private tokens = 0
  private readonly orphans = new OrphanProbes()
  /** Set by the backend: what to do when a reply shows that Redis lost state. */
  onLoss: LossHandler | undefined

  constructor(
    private readonly link: RedisLink,
    private readonly health: BackendHealth,
    private readonly view: SharedView,
    private readonly prefix: string,
    private readonly keyTtlMs: number,
    private readonly random: () => number,
    /** The first connection attempt while it has not settled, else undefined. */
    private readonly starting: () => Promise<void> | undefined,
    /** Successes counted locally for a service since its last report (taken: sent with this one). */
    private readonly takeTally: (service: string) => number,
    private readonly track: (work: Promise<unknown>) => void,
  ) {}

  /** admit with a fresh token (kept by Redis if this call gets the probe); undefined when Redis failed. */
  admit(service: string, config: CircuitConfig): Promise<ScriptReply | undefined> {
    const token = `${(++this.tokens).toString(36)}.${Math.floor(this.random() * 2 ** 48).toString(36)}`
    return this.call(service, config, 'bwCbAdmit', [token])
  }

  /** record an outcome (or only flush the tally); never rejects. */
  async record(
    service: string,
    config: CircuitConfig,
    outcome: 'success' | 'failure' | 'tally',
    token: string,
  ): Promise<void> {
    const successes = this.takeTally(service)
    await this.call(service, config, 'bwCbRecord', [outcome, token, this.random(), successes])
  }

  /** Runs a state-changing script; never rejects. */
  async update(
    service: string,
    config: CircuitConfig,
    name: ScriptName,
    extra: (string | number)[],
  ): Promise<void> {
    await this.call(service, config, name, extra)
  }

  /** One script round trip: learns the reply, counts errors; undefined when Redis failed. */
  async call(
    service: string,
    config: CircuitConfig,
    name: ScriptName,
    extra: (string | number)[],
  ): Promise<ScriptReply | undefined> {
    // Until the first connection attempt settles, commands would fail for want of an offline queue.
    const starting = this.starting()
    if (starting !== undefined) await starting
    const key = breakerKey(this.prefix, service)
    const channel = breakerChannel(key)
    this.link.watch(channel, service)
    // Only a subscription that was there before the command went out can have told us of a change
    // made after the script ran: anything else is learned but not trusted for the hot path.
    const subscription = this.link.since(channel)
    let reply: ScriptReply
    try {
      const pending = this.script(name, key, config, extra)
      this.track(pending)
      reply = await pending
    } catch (error) {
      this.health.failed(error, key)
      this.orphans.add(service, config, probeToken(name, extra))
      return undefined
    }
    this.releaseOrphans()
    if (reply.publishError === '') this.health.ok()
    else
      this.health.failed(new Error(`PUBLISH of an invalidation message failed: ${reply.publishError}`), key)
    if (reply.storedConfig !== '') this.view.mismatch(service, config, reply.storedConfig)
    const known = this.view.knownGen(service)
    const lost = reply.fresh || reply.gen < known
    if (lost && name !== 'bwCbAssert' && this.onLoss !== undefined) {
      const asserted = await this.onLoss(service, config, reply, known)
      if (asserted !== undefined) return asserted
      // Nothing to put back: Redis's history is the one that counts from now on.
      if (reply.gen < known) this.view.rebase(service, reply.gen)
    }
    const trusted = subscription !== undefined && this.link.since(channel) === subscription
    this.view.learn(service, reply, trusted, true, config)
    return reply
  }

  /** Redis answers again: hands back the probes that may have been granted unheard (see OrphanProbes). */
  private releaseOrphans(): void {
    for (const o of this.orphans.take()) this.track(this.call(o.service, o.config, 'bwCbRelease', [o.token]))
  }

  /** Sends one script on `key` as it is: nothing learned, no error counted (`ready()` uses it). */
  script(
    name: ScriptName,
    key: string,
    config: CircuitConfig,
    extra: readonly (string | number)[],
    ttlMs = this.keyTtlMs,
  ): Promise<ScriptReply> {
    const publish = this.link.cluster ? 'SPUBLISH' : 'PUBLISH'
    const args = [encodedConfig(config), ttlMs, publish, breakerChannel(key), ...extra]
    return runScript(this.link.cmd, name, key, args)
  }
}

/**
 * The probe token a failed command may have left holding a lease ('' when it cannot have): an
 * admit's, a probe's failed report or release. Not a renewal's: that probe is still running, and
 * its lease must not be freed under it (it expires by itself if the renewals stay unheard).
 */
function probeToken(name: ScriptName, extra: readonly (string | number)[]): string {
  if (name === 'bwCbAdmit' || name === 'bwCbRelease') return String(extra[0] ?? '')
  if (name === 'bwCbRecord') return String(extra[1] ?? '')
  return ''
}
