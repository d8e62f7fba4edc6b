import { createHash } from 'node:crypto'
import type { Message } from './message.js'
import { isSummaryMessage } from './summary-block.js'

/** Index after the leading run of system messages (pinned ones and any previous summary). */
export function leadingSystemEnd(messages: readonly Message[]): number {
  let i = 0
  while (i < messages.length && messages[i]!.role === 'system') i++
  return i
}

/** Splits the leading system run into pinned messages and previous-summary messages. */
export function splitLead(
  messages: readonly Message[],
  lead: number,
): { pinned: Message[]; summaries: Message[] } {
  const pinned: Message[] = []
  const summaries: Message[] = []
  for (let i = 0; i < lead; i++) {
    const m = messages[i]!
    ;(isSummaryMessage(m) ? summaries : pinned).push(m)
  }
  return { pinned, summaries }
}

interface Digest {
  readonly content: string
  readonly calls: Message['toolCalls']
  readonly id: string
  readonly digest: string
}
const digests = new WeakMap<Message, Digest>()

/**
 * sha256 of one message, cached per message object like its token count (a replaced content or
 * tool call list is hashed again), so planning and applying never rehash a long conversation.
 */
function digestOf(m: Message): string {
  const hit = digests.get(m)
  if (hit !== undefined && hit.content === m.content && hit.calls === m.toolCalls && hit.id === m.id) {
    return hit.digest
  }
  const digest = createHash('sha256')
    .update(JSON.stringify([m.id, m.role, m.content, m.toolCalls ?? null, m.toolCallId ?? null]))
    .digest('hex')
  digests.set(m, { content: m.content, calls: m.toolCalls, id: m.id, digest })
  return digest
}

/** sha256 of everything a summary replaces: the previous summary and the summarized messages. */
export function hashPrefix(summaries: readonly Message[], summarized: readonly Message[]): string {
  const hash = createHash('sha256')
  for (const m of summaries) hash.update(digestOf(m))
  for (const m of summarized) hash.update(digestOf(m))
  return hash.digest('hex')
}
