import type { Guard } from '../core/guard.js'
import { anthropicMessagesEndpoint } from './endpoints.js'
import type { WrapOptions } from './provider-options.js'
import { wrapClient } from './wrap-client.js'

interface AnthropicLike {
  baseURL?: unknown
  apiKey?: unknown
  authToken?: unknown
}

/**
 * Returns the Anthropic client with `messages.create` running through `guard` (service
 * `anthropic:<model>`); everything else is the client's own. See the README section "Provider
 * wrappers" for streams, dedupe keys and fallback models.
 */
export function wrapAnthropic<C>(client: C, guard: Guard, options?: WrapOptions): C {
  return wrapClient(
    'wrapAnthropic',
    client,
    guard,
    options,
    { messages: { create: anthropicMessagesEndpoint } },
    (c) => {
      const o = c as AnthropicLike
      return [o.baseURL, o.apiKey, o.authToken]
    },
  )
}
