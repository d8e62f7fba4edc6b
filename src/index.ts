export * from './core/index.js'
export * from './timeout/index.js'
export * from './retry/index.js'
export * from './dedupe/index.js'
export * from './backpressure/index.js'
export * from './circuit/index.js'
export * from './presets/index.js'
export {
  classifyError,
  type ClassifyOptions,
  type ErrorClass,
  type ErrorReason,
  type Health,
} from './providers/classify.js'
