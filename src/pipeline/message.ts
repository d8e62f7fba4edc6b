/** A tool call made by an assistant message; its result is a 'tool' message with the same `toolCallId`. */
export interface ToolCall {
  id: string
  name: string
  /** The arguments as the model produced them (usually JSON text). */
  arguments: string
}

/** One message of an agent conversation, in a provider-neutral shape. */
export interface Message {
  /** Unique within the conversation; compaction boundaries refer to it. */
  id: string
  role: 'system' | 'user' | 'assistant' | 'tool'
  content: string
  /** Tool calls made by an assistant message. */
  toolCalls?: ToolCall[]
  /** On a 'tool' message: the id of the call it answers. */
  toolCallId?: string
}

/** A deep copy, so a plan's snapshot cannot change when the caller mutates its messages. */
export function copyMessage(m: Message): Message {
  const copy: Message = { id: m.id, role: m.role, content: m.content }
  if (m.toolCalls !== undefined) copy.toolCalls = m.toolCalls.map((c) => ({ ...c }))
  if (m.toolCallId !== undefined) copy.toolCallId = m.toolCallId
  return copy
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool'])

/** Throws a TypeError naming the first message that is not a Message. */
export function requireMessages(owner: string, messages: unknown): Message[] {
  if (!Array.isArray(messages)) {
    throw new TypeError(`${owner}: messages must be an array of messages, got ${typeof messages}`)
  }
  messages.forEach((m: Partial<Message> | null, i) => {
    if (
      typeof m !== 'object' ||
      m === null ||
      typeof m.id !== 'string' ||
      typeof m.content !== 'string' ||
      !ROLES.has(m.role as string) ||
      (m.toolCalls !== undefined && !Array.isArray(m.toolCalls))
    ) {
      throw new TypeError(
        `${owner}: messages[${i}] must be { id: string, role: system|user|assistant|tool, content: string }`,
      )
    }
  })
  return messages as Message[]
}
