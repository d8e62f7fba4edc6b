export { RedisRateLimitStore } from './redis-rate-limit-store.js'
export {
  DEFAULT_ACTIVE_PROCESS_MS,
  DEFAULT_LEASE_FRACTION,
  DEFAULT_LEASE_MS,
  type RedisRateLimitStoreOptions,
} from './redis-store-options.js'
