import type { Message } from '../../src/pipeline/index.js'

/** Builds conversations with unique ids: user turns, assistant replies and tool call groups. */
export function conversation() {
  let seq = 0
  const messages: Message[] = []
  const id = (prefix: string) => `${prefix}${++seq}`
  const api = {
    messages,
    system(content: string) {
      messages.push({ id: id('s'), role: 'system', content })
      return api
    },
    user(content: string) {
      messages.push({ id: id('u'), role: 'user', content })
      return api
    },
    assistant(content: string) {
      messages.push({ id: id('a'), role: 'assistant', content })
      return api
    },
    /** An assistant message calling `name`, followed by its result. */
    tool(name: string, args: object, output: string) {
      const callId = id('call')
      messages.push({
        id: id('a'),
        role: 'assistant',
        content: '',
        toolCalls: [{ id: callId, name, arguments: JSON.stringify(args) }],
      })
      messages.push({ id: id('t'), role: 'tool', content: output, toolCallId: callId })
      return api
    },
  }
  return api
}

/** Every tool result has its call in the same list, before it. */
export function toolCallsPaired(messages: readonly Message[]): boolean {
  const calls = new Set<string>()
  for (const m of messages) {
    for (const c of m.toolCalls ?? []) calls.add(c.id)
    if (m.role === 'tool' && !calls.has(m.toolCallId ?? '')) return false
  }
  const results = new Set(messages.filter((m) => m.role === 'tool').map((m) => m.toolCallId))
  return [...calls].every((c) => results.has(c))
}
