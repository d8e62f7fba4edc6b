import type { Guard } from '../core/guard.js'
import { openaiChatEndpoint, openaiResponsesEndpoint } from './endpoints.js'
import type { WrapOptions } from './provider-options.js'
import { wrapClient } from './wrap-client.js'

interface OpenAILike {
  baseURL?: unknown
  apiKey?: unknown
  organization?: unknown
  project?: unknown
}

/**
 * Returns the OpenAI client with `chat.completions.create` and `responses.create` running through
 * `guard` (service `openai:<model>`); everything else is the client's own. See the README section
 * "Provider wrappers" for streams, dedupe keys and fallback models.
 */
export function wrapOpenAI<C>(client: C, guard: Guard, options?: WrapOptions): C {
  return wrapClient(
    'wrapOpenAI',
    client,
    guard,
    options,
    { chat: { completions: { create: openaiChatEndpoint } }, responses: { create: openaiResponsesEndpoint } },
    (c) => {
      const o = c as OpenAILike
      return [o.baseURL, o.apiKey, o.organization, o.project]
    },
  )
}
