import type { CircuitConfig } from '../../circuit-backend.js'
import type { BackendHealth } from './backend-health.js'
import { breakerChannel, breakerKey, encodedConfig } from './redis-keys.js'
import type { RedisLink } from './redis-link.js'
import { runScript, type ScriptName, type ScriptReply } from './redis-scripts.js'
import type { SharedView } from './shared-view.js'

/**
 * The shared breaker's operations, each one script round trip on the service's hash: it
 * subscribes to the service's channel, sends the common arguments (lua/prelude.ts), learns the
 * reply, and counts Redis errors toward the fallback instead of passing them to the caller.
 */
export class BreakerCommands {
  private tokens = 0

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
    let reply: ScriptReply
    try {
      const pending = this.script(name, key, config, extra)
      this.track(pending)
      reply = await pending
    } catch (error) {
      this.health.failed(error)
      return undefined
    }
    this.health.ok()
    if (reply.storedConfig !== '') this.view.mismatch(service, config, reply.storedConfig)
    const { gen, state, remainingMs, failures } = reply
    this.view.learn(service, gen, state, remainingMs, failures, this.link.listening(channel), true)
    return reply
  }

  /** Sends one script on `key` as it is: nothing learned, no error counted (`ready()` uses it). */
  script(
    name: ScriptName,
    key: string,
    config: CircuitConfig,
    extra: readonly (string | number)[],
  ): Promise<ScriptReply> {
    const publish = this.link.cluster ? 'SPUBLISH' : 'PUBLISH'
    const args = [encodedConfig(config), this.keyTtlMs, publish, breakerChannel(key), ...extra]
    return runScript(this.link.cmd, name, key, args)
  }
}
