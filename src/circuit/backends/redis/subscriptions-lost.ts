import type { Logger } from '../../../core/logger.js'
import type { SubscriberEvents } from './plain-subscriber.js'
import type { StateCache } from './state-cache.js'

/** Logged (info) when the subscriber connection (single Redis) closes while in use. */
export const SUBSCRIBER_LOST = 'breakwater: Redis subscriber connection lost, cached states dropped'
/** Logged (info) when the background check has it connected again while the shared breaker answered. */
export const SUBSCRIBER_RECONNECTED = 'breakwater: Redis subscriber reconnected'
/** Logged (info) once per loss of sharded subscriptions (Cluster). */
export const SUBSCRIPTIONS_LOST = 'breakwater: sharded subscriptions lost, their cached states dropped'

/**
 * What the backend does when subscriptions are lost (D3, D7): the cached states they kept current
 * stop answering calls until subscribed again. The whole subscriber down (single Redis): every
 * entry, and the background check reconnects it. Some sharded subscriptions dropped (Cluster):
 * those services' entries (they are subscribed again with their next command). One log entry per
 * loss, and one when a lost subscriber is back — unless Redis was unusable meanwhile: then the
 * return from the fallback is the entry that says so.
 */
export class SubscriptionLoss {
  private subscriberDown = false

  constructor(
    private readonly cache: StateCache,
    private readonly logger: Logger,
    private readonly reconnect: () => void,
  ) {}

  readonly lost: SubscriberEvents['lost'] = (services, why) => {
    if (services === undefined) {
      this.cache.invalidateAll()
      if (!this.subscriberDown) this.logger.info(SUBSCRIBER_LOST, { reason: why })
      this.subscriberDown = true
      this.reconnect()
      return
    }
    for (const service of services) this.cache.invalidate(service)
    this.logger.info(SUBSCRIPTIONS_LOST, { services: services.length, reason: why })
  }

  /** A background check connected everything; `usable`: the shared breaker answered meanwhile. */
  restored(usable: boolean): void {
    if (!this.subscriberDown) return
    this.subscriberDown = false
    if (usable) this.logger.info(SUBSCRIBER_RECONNECTED)
  }
}
