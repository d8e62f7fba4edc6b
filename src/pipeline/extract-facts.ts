import type { Message } from './message.js'

/** Facts an extractive summary keeps. */
export interface Facts {
  goal?: string
  latestRequest?: string
  files: string[]
  tools: string[]
  decisions: string[]
}

const EXTENSIONS = new Set(
  (
    'ts tsx js jsx mjs cjs json md mdx py go rs java kt swift rb php c h cc cpp hpp cs css scss html vue ' +
    'svelte yml yaml toml ini cfg conf env sh bash sql txt lock xml csv log proto graphql tf dockerfile'
  ).split(' '),
)
const PATH =
  /(?:^|[\s"'`(<[=])((?:~|\.{1,2})?\/?(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.([A-Za-z][A-Za-z0-9]{0,9}))(?=$|[\s"'`)>\],:;!?]|\.(?:\s|$))/g

/** File paths mentioned in `text`: anything with a slash and an extension, or a known extension. */
export function filesIn(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(PATH)) {
    const path = match[1]!
    if (path.includes('/') || EXTENSIONS.has(match[2]!.toLowerCase())) found.push(path)
  }
  return found
}

/** Collapses whitespace and cuts to `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

/** Pushes `item` to `list`, moving it to the end when already present (most recent last). */
export function pushRecent(list: string[], item: string): void {
  const i = list.indexOf(item)
  if (i >= 0) list.splice(i, 1)
  list.push(item)
}

/** Extracts facts from messages, in order. */
export function factsFromMessages(messages: readonly Message[], lineChars: number): Facts {
  const facts: Facts = { files: [], tools: [], decisions: [] }
  for (const m of messages) {
    if (m.role === 'user') {
      const text = oneLine(m.content, lineChars)
      if (text.length > 0) {
        facts.goal ??= text
        facts.latestRequest = text
      }
    } else if (m.role === 'assistant' && m.content.trim().length > 0) {
      facts.decisions.push(oneLine(m.content, lineChars))
    }
    for (const file of filesIn(m.content)) pushRecent(facts.files, file)
    for (const call of m.toolCalls ?? []) {
      if (!facts.tools.includes(call.name)) facts.tools.push(call.name)
      for (const file of filesIn(call.arguments.replace(/\\\//g, '/'))) pushRecent(facts.files, file)
    }
  }
  return facts
}

const BLOCK = /^\[(user|assistant|system)\]\n/

/** Rebuilds messages from a transcript made by `planCompaction` (when no messages are given). */
export function messagesFromTranscript(transcript: string): Message[] {
  const messages: Message[] = []
  for (const block of transcript.split(/\n\n(?=\[[^\]\n]+\]\n)/)) {
    const plain = BLOCK.exec(block)
    if (plain) {
      messages.push({ id: '', role: plain[1] as Message['role'], content: block.slice(plain[0].length) })
      continue
    }
    const call = /^\[\w+ tool call (\S+) \(([^)]*)\)\]\n/.exec(block)
    if (call) {
      const args = block.slice(call[0].length)
      messages.push({
        id: '',
        role: 'assistant',
        content: '',
        toolCalls: [{ id: call[2]!, name: call[1]!, arguments: args }],
      })
    }
    // Tool outputs are left out: their paths are noise more often than not.
  }
  return messages
}
