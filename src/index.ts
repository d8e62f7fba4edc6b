export * from './core/index.js'
export * from './timeout/index.js'
export * from './retry/index.js'
export {
  classifyError,
  type ClassifyOptions,
  type ErrorClass,
  type ErrorReason,
  type Health,
} from './providers/classify.js'
