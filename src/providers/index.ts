export { wrapOpenAI } from './wrap-openai.js'
export { wrapAnthropic } from './wrap-anthropic.js'
export {
  breakwaterOptions,
  fallbackOn,
  type ProviderCallOptions,
  type WrapOptions,
} from './provider-options.js'
export { GuardedAPIPromise } from './guarded-promise.js'
export {
  guardMiddleware,
  type GuardedModel,
  type GuardedParams,
  type GuardLanguageModelMiddleware,
  type GuardMiddlewareOptions,
} from './ai-middleware.js'
