import type { Guard } from '../core/guard.js'
import type { WrapOptions } from './provider-options.js'
import { wrapClient } from './wrap-client.js'

/**
 * Returns a guarded copy of an OpenAI client (same class, `instanceof` holds): every request it
 * makes — `chat.completions.create`, `parse`, `stream`, `runTools`, `responses.create` /
 * `stream`, embeddings, batches, files, any method a later SDK adds — is one call through `guard`
 * as `openai:<model>`, with the SDK's own retries off. See the README section "Provider wrappers".
 */
export function wrapOpenAI<C>(client: C, guard: Guard, options?: WrapOptions): C {
  return wrapClient('wrapOpenAI', client, guard, options, 'openai')
}
