export { timeoutGuard, TimeoutGuard } from './timeout-guard.js'
export type { TimeoutOptions } from './timeout-options.js'
