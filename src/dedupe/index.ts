export { dedupeGuard, DedupeGuard, MAX_DEDUPE_ENTRIES } from './dedupe-guard.js'
export type { DedupeCheck, DedupeEvent, DedupeOptions } from './dedupe-options.js'
export { requestKey } from './request-key.js'
