export { rateLimitGuard, RateLimitGuard } from './rate-limit-guard.js'
export {
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  type RateLimitedEvent,
  type RateLimitObservation,
  type RateLimitOptions,
  type RateLimitRemaining,
  type RateLimitWaitEvent,
} from './rate-limit-options.js'
export {
  DEFAULT_MAX_RATE_LIMIT_SERVICES,
  InMemoryRateLimitStore,
  type InMemoryRateLimitStoreOptions,
} from './memory-store.js'
export { MAX_PAUSE_MS } from './observation.js'
export type {
  BudgetAmount,
  BudgetLevel,
  BudgetObservation,
  BudgetReply,
  RateLimitBudget,
  RateLimitStore,
  TakeRequest,
} from './rate-limit-store.js'
