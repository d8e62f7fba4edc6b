export {
  classifyError,
  type ClassifyOptions,
  type ErrorClass,
  type ErrorReason,
  type Health,
} from './classify-error.js'
export { retryAfterMs } from './retry-after.js'
