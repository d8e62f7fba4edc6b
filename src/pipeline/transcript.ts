import type { Message } from './message.js'

/** Cuts `text` to `max` characters, saying how much was left out. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`
}

/**
 * Text snapshot of `messages` for a summarizer: one block per message, tool calls with their
 * arguments, tool outputs cut to `maxToolOutputChars` (long outputs dominate and add little).
 */
export function renderTranscript(messages: readonly Message[], maxToolOutputChars: number): string {
  const toolNames = new Map<string, string>()
  const parts: string[] = []
  for (const m of messages) {
    if (m.role === 'tool') {
      const name = (m.toolCallId !== undefined && toolNames.get(m.toolCallId)) || 'tool'
      parts.push(`[tool result ${name} (${m.toolCallId ?? '?'})]\n${cut(m.content, maxToolOutputChars)}`)
      continue
    }
    if (m.content.length > 0 || m.toolCalls === undefined) parts.push(`[${m.role}]\n${m.content}`)
    for (const call of m.toolCalls ?? []) {
      toolNames.set(call.id, call.name)
      parts.push(
        `[${m.role} tool call ${call.name} (${call.id})]\n${cut(call.arguments, maxToolOutputChars)}`,
      )
    }
  }
  return parts.join('\n\n')
}
