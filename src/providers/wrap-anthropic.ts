import type { Guard } from '../core/guard.js'
import type { WrapOptions } from './provider-options.js'
import { wrapClient } from './wrap-client.js'

/**
 * Returns a guarded copy of an Anthropic client (same class, `instanceof` holds): every request it
 * makes — `messages.create`, `messages.stream`, `countTokens`, message batches, any method a later
 * SDK adds — is one call through `guard` as `anthropic:<model>`, with the SDK's own retries off.
 * See the README section "Provider wrappers".
 */
export function wrapAnthropic<C>(client: C, guard: Guard, options?: WrapOptions): C {
  return wrapClient('wrapAnthropic', client, guard, options, 'anthropic')
}
