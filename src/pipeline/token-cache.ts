import type { Message, ToolCall } from './message.js'
import type { TokenEstimator } from './tokens.js'

interface Entry {
  readonly content: string
  readonly calls: ToolCall[] | undefined
  readonly tokens: number
}

/**
 * Caches `estimate` per message object (P13): a conversation is counted once, then each turn costs
 * only its new messages and a sum. A message whose `content` or `toolCalls` was replaced is counted
 * again; one whose tool call arguments were edited in place is not (replace the array instead).
 */
export function cachedEstimator(estimate: TokenEstimator): TokenEstimator {
  const cache = new WeakMap<Message, Entry>()
  return (m: Message): number => {
    const hit = cache.get(m)
    if (hit !== undefined && hit.content === m.content && hit.calls === m.toolCalls) return hit.tokens
    const tokens = estimate(m)
    cache.set(m, { content: m.content, calls: m.toolCalls, tokens })
    return tokens
  }
}
