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

/** sha256 of everything a summary replaces: the previous summary and the summarized messages. */
export function hashPrefix(summaries: readonly Message[], summarized: readonly Message[]): string {
  const hash = createHash('sha256')
  for (const m of [...summaries, ...summarized]) {
    hash.update(JSON.stringify([m.id, m.role, m.content, m.toolCalls ?? null, m.toolCallId ?? null]))
    hash.update('\n')
  }
  return hash.digest('hex')
}
