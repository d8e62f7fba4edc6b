import type { Message } from './message.js'

/** Estimates how many tokens one message costs in the model's context. */
export type TokenEstimator = (message: Message) => number

/** Characters per token of the default estimator: a common rule of thumb for English text and code. */
export const CHARS_PER_TOKEN = 4
/** Tokens the default estimator adds per message for role and framing, as chat formats do. */
export const MESSAGE_OVERHEAD_TOKENS = 4

/**
 * The default estimator: `ceil(chars / 4) + 4`, where chars counts the content and every tool call's
 * name and arguments. It needs no tokenizer and errs on the high side for code and JSON; pass an
 * exact one (e.g. from tiktoken) through the policy's `estimateTokens` when it matters.
 */
export function estimateTokens(message: Message): number {
  let chars = message.content.length
  if (message.toolCalls !== undefined) {
    for (const call of message.toolCalls) chars += call.name.length + call.arguments.length
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS
}

/** Sum of the estimates of `messages`. */
export function estimateTotal(
  messages: readonly Message[],
  estimate: TokenEstimator = estimateTokens,
): number {
  let total = 0
  for (const m of messages) total += estimate(m)
  return total
}
