import type { Logger } from '../../../core/logger.js'
import type { CircuitConfig } from '../../circuit-backend.js'
import type { BreakerCommands, LossHandler } from './breaker-commands.js'
import type { FallbackRouter, LocalKnowledge } from './fallback-router.js'
import type { ScriptReply } from './redis-scripts.js'
import type { SharedView } from './shared-view.js'

/** Logged (warn) once per open state put back into Redis after Redis lost it. */
export const STATE_REASSERTED =
  "breakwater: circuit open state lost in Redis, re-asserted from this process's breaker"

/**
 * Puts back an open state that Redis lost (D7): FLUSHALL, a restart without persistence, a
 * failover to a replica that missed the write. Without this, the fleet's breaker would be closed
 * again and need `threshold` new failures against a provider that is still down, although this
 * process's own breaker (the shadow, fed all along) knows it is open. The bwCbAssert script writes
 * only when the loss is proven in Redis itself, so a breaker another process closed since is never
 * reopened; each re-assertion that writes is logged once.
 */
export class LostState {
  constructor(
    private readonly commands: BreakerCommands,
    private readonly router: FallbackRouter,
    private readonly view: SharedView,
    private readonly logger: Logger,
  ) {}

  /** A reply showed the loss (see BreakerCommands.onLoss). */
  readonly handle: LossHandler = async (service, config, reply, known) => {
    const knows = await this.router.knowledge(service, config)
    if (knows === undefined) return undefined
    const why = reply.fresh
      ? 'its key is gone'
      : `Redis is at generation ${reply.gen}, this process saw ${known}`
    return this.assert(service, config, known, knows, why)
  }

  /**
   * Redis is usable again after an outage: it may have come back without what it held (a restart,
   * a failover). Every service this process's breaker holds open is offered back; Redis takes it
   * only where the loss is proven.
   */
  async afterReturn(services: readonly [string, CircuitConfig][]): Promise<void> {
    for (const [service, config] of services) {
      const knows = await this.router.knowledge(service, config)
      if (knows !== undefined) {
        await this.assert(service, config, this.view.knownGen(service), knows, 'Redis came back without it')
      }
    }
  }

  private async assert(
    service: string,
    config: CircuitConfig,
    known: number,
    knows: LocalKnowledge,
    why: string,
  ): Promise<ScriptReply | undefined> {
    const last = this.view.last(service)
    const cooling = last !== undefined && last.state === 'open' && last.cooling
    const r = await this.commands.call(service, config, 'bwCbAssert', [
      known,
      knows.remainingMs,
      cooling ? '1' : '0',
    ])
    if (r?.kind === 'ok') {
      this.logger.warn(STATE_REASSERTED, {
        service,
        reason: why,
        isolated: knows.remainingMs < 0,
        ...(knows.remainingMs >= 0 && { remainingMs: knows.remainingMs }),
        cooling,
      })
    }
    return r
  }
}
