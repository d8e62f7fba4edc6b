export {
  classifyError,
  type ClassifyOptions,
  type ErrorClass,
  type ErrorReason,
  type Health,
} from './classify-error.js'
export { retryAfterMs } from './retry-after.js'
export {
  parseDuration,
  parseRateLimitHeaders,
  type RateLimitHeaders,
  type RateLimitWindow,
} from './rate-limit-headers.js'
export type { ProviderAnswer } from './provider-answer.js'
