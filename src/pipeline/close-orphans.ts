import type { Message } from './message.js'

/** Content of the result that closes a tool call whose result never arrived. */
export const INTERRUPTED_RESULT =
  '[interrupted: the session stopped before this tool call returned; no result was recorded]'
const NOTE_PREFIX = '[The session was interrupted and resumed.'

/** True for the note `closeOrphans` adds. */
export function isInterruptNote(m: Message): boolean {
  return m.role === 'user' && m.content.startsWith(NOTE_PREFIX)
}

/**
 * Makes a conversation that stopped mid-turn valid for a provider again (P16): every tool call
 * without a result gets a synthetic one right after the results of its group, a tool result whose
 * call is missing is removed, and one interrupt note (a user message) is added at the end saying
 * which calls were closed, so the model checks their effects instead of assuming them. A
 * conversation with nothing to close is returned as is; closing twice adds nothing.
 */
export function closeOrphans(messages: readonly Message[]): { messages: Message[]; closed: string[] } {
  const answered = new Set<string>()
  const called = new Set<string>()
  for (const m of messages) {
    for (const c of m.toolCalls ?? []) called.add(c.id)
    if (m.role === 'tool' && m.toolCallId !== undefined) answered.add(m.toolCallId)
  }
  const out: Message[] = []
  const closed: { id: string; name: string }[] = []
  let removed = 0
  let open: { id: string; name: string }[] = []
  const flush = () => {
    for (const c of open) {
      out.push({ id: `${c.id}:interrupted`, role: 'tool', toolCallId: c.id, content: INTERRUPTED_RESULT })
      closed.push(c)
    }
    open = []
  }
  for (const m of messages) {
    if (m.role === 'tool') {
      if (m.toolCallId === undefined || !called.has(m.toolCallId)) {
        removed++
        continue
      }
      out.push(m)
      continue
    }
    flush()
    out.push(m)
    open = (m.toolCalls ?? []).filter((c) => !answered.has(c.id)).map((c) => ({ id: c.id, name: c.name }))
  }
  flush()
  if (closed.length === 0 && removed === 0) return { messages: [...messages], closed: [] }
  const what = [
    closed.length > 0
      ? `Tool calls closed without a result: ${closed.map((c) => `${c.name} (${c.id})`).join(', ')}.`
      : '',
    removed > 0 ? `${removed} tool result(s) whose call was lost were removed.` : '',
  ].filter(Boolean)
  const note: Message = {
    id: `interrupt:${messages.at(-1)?.id ?? 'start'}`,
    role: 'user',
    content: `${NOTE_PREFIX} ${what.join(' ')} Check their effects before relying on them.]`,
  }
  if (!isInterruptNote(out.at(-1)!)) out.push(note)
  return { messages: out, closed: closed.map((c) => c.id) }
}
