export { wrapOpenAI } from './wrap-openai.js'
export { wrapAnthropic } from './wrap-anthropic.js'
export {
  breakwaterOptions,
  DEFAULT_DEDUPE_MODE,
  fallbackOn,
  type DedupeMode,
  type FallbackEvent,
  type ProviderCallOptions,
  type WrapOptions,
} from './provider-options.js'
export type { ProviderResponse } from './observation.js'
export type { TokenUsage } from '../classify/answer-facts.js'
export { DEFAULT_OUTPUT_TOKENS, estimateRequestCost } from './request-cost.js'
export { serviceName, upstreamProvider } from './service-name.js'
export {
  guardMiddleware,
  type GuardedModel,
  type GuardedParams,
  type GuardLanguageModelMiddleware,
  type GuardMiddlewareOptions,
} from './ai-middleware.js'
