import type { Message } from './message.js'

/** Cuts `text` to `max` characters, saying how much was left out. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`
}

/**
 * Text snapshot of each message for a summarizer (one block per message; an assistant message's tool
 * calls are its block too), tool outputs and arguments cut to `maxToolOutputChars` (long outputs
 * dominate and add little). A block may be empty (an assistant message with neither text nor calls).
 */
export function renderBlocks(messages: readonly Message[], maxToolOutputChars: number): string[] {
  const toolNames = new Map<string, string>()
  const blocks: string[] = []
  for (const m of messages) {
    if (m.role === 'tool') {
      const name = (m.toolCallId !== undefined && toolNames.get(m.toolCallId)) || 'tool'
      blocks.push(`[tool result ${name} (${m.toolCallId ?? '?'})]\n${cut(m.content, maxToolOutputChars)}`)
      continue
    }
    const parts: string[] = []
    if (m.content.length > 0 || m.toolCalls === undefined) parts.push(`[${m.role}]\n${m.content}`)
    for (const call of m.toolCalls ?? []) {
      toolNames.set(call.id, call.name)
      parts.push(
        `[${m.role} tool call ${call.name} (${call.id})]\n${cut(call.arguments, maxToolOutputChars)}`,
      )
    }
    blocks.push(parts.join('\n\n'))
  }
  return blocks
}

/** The whole transcript: the blocks of `renderBlocks`, separated by blank lines. */
export function renderTranscript(messages: readonly Message[], maxToolOutputChars: number): string {
  return renderBlocks(messages, maxToolOutputChars)
    .filter((b) => b.length > 0)
    .join('\n\n')
}
