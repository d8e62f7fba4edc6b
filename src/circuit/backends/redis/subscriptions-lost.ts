import type { Logger } from '../../../core/logger.js'
import type { SubscriberEvents } from './plain-subscriber.js'
import type { StateCache } from './state-cache.js'

/**
 * What the backend does when subscriptions are lost (D3, D7): the cached states they kept current
 * stop answering calls until subscribed again. The whole subscriber down (single Redis): every
 * entry, and the background check reconnects it. Some sharded subscriptions dropped (Cluster): those
 * services' entries, with one log line per loss.
 */
export function subscriptionsLost(
  cache: StateCache,
  logger: Logger,
  reconnect: () => void,
): SubscriberEvents['lost'] {
  return (services, why) => {
    if (services === undefined) {
      cache.invalidateAll()
      reconnect()
      return
    }
    for (const service of services) cache.invalidate(service)
    logger.info(
      `breakwater: sharded subscriptions of ${services.length} circuit(s) lost: ${why}; their cached states are dropped until subscribed again`,
      { services: services.length, reason: why },
    )
  }
}
