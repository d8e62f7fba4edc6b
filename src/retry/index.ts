export { backoffDelay, MAX_RETRY_DELAY_MS, type Jitter } from './backoff.js'
export { retryBudget, RetryBudget, type RetryBudgetOptions } from './retry-budget.js'
export { retryGuard, RetryGuard } from './retry-guard.js'
export type { GiveUpCause, GiveUpEvent, RetryEvent, RetryOptions } from './retry-options.js'
