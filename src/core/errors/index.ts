export * from './resilience-error.js'
export * from './timeout-error.js'
export * from './broken-circuit-error.js'
export * from './backpressure-shed-error.js'
