export { backpressureGuard, BackpressureGuard } from './backpressure-guard.js'
export type { BackpressureOptions, ShedEvent, SoftAction, SoftLimitEvent } from './backpressure-options.js'
