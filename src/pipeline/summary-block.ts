import type { Message } from './message.js'

const OPEN = '<conversation-summary>'
const CLOSE = '</conversation-summary>'

/** True for a system message that holds a previous compaction summary. */
export function isSummaryMessage(m: Message): boolean {
  if (m.role !== 'system') return false
  const text = m.content.trim()
  return text.startsWith(OPEN) && text.endsWith(CLOSE)
}

/** The text inside a summary block, trimmed. */
export function summaryText(m: Message): string {
  const text = m.content.trim()
  return text.slice(OPEN.length, text.length - CLOSE.length).trim()
}

/**
 * The system message that carries a summary. Tags inside the summary are removed so the block
 * always parses back to the same text.
 */
export function summaryMessage(id: string, summary: string): Message {
  const clean = summary.split(OPEN).join('').split(CLOSE).join('').trim()
  return { id, role: 'system', content: `${OPEN}\n${clean}\n${CLOSE}` }
}
