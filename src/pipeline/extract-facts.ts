import type { Message, ToolCall } from './message.js'

/** Facts an extractive summary keeps (P15). Lists are oldest first. */
export interface Facts {
  goal?: string
  constraints: string[]
  latestRequest?: string
  filesRead: string[]
  filesModified: string[]
  errors: string[]
  decisions: string[]
  nextStep?: string
  tools: string[]
}

export const emptyFacts = (): Facts => ({
  constraints: [],
  filesRead: [],
  filesModified: [],
  errors: [],
  decisions: [],
  tools: [],
})

/**
 * Characters scanned between two yields to the event loop (a few ms of work), so the summary never
 * blocks a turn for long; counted as work, not time, so a short transcript runs in one go.
 */
const SLICE_CHARS = 200_000
/** Characters of a tool output scanned for errors, at each end (outputs are often 5–20 kB). */
const SCAN_CHARS = 4_000
/** Tool call arguments longer than this are not parsed as JSON (a file being written, say). */
const MAX_PARSED_ARGUMENTS = 20_000

const PATH =
  /(?:^|[\s"'`(<[=])((?:~|\.{1,2})?\/?(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.([A-Za-z][A-Za-z0-9]{0,9}))(?=$|[\s"'`)>\],:;!?]|\.(?:\s|$))/g
const PATH_KEYS = new Set([
  'path',
  'file',
  'file_path',
  'filepath',
  'filename',
  'target',
  'paths',
  'files',
  'source',
  'destination',
])
const COMMAND_KEYS = ['command', 'cmd', 'script', 'input']
const MODIFIES = /write|edit|patch|create|replace|insert|append|delete|remove|rename|move|apply|update|save/i
const SHELL = /bash|shell|exec|run|terminal|command/i
const SHELL_MODIFIES =
  /(?:^|[\s;&|])(?:sed\s+-i|tee|mv|cp|rm|touch|mkdir|git\s+(?:apply|checkout|mv|rm))\b|[^2&]>>?\s*[\w./~-]/
const CONSTRAINT =
  /\b(?:must|never|always|only|without|avoid|don't|do not|should not|shouldn't|no more than|at most|at least|keep|prefer)\b|不要|必须|保持|不能|しないで|必ず|ないでください/i
const NEXT = /\b(?:next|then|will|going to|plan to|todo|remaining)\b|接下来|然后|次に|これから/i
const ERROR_LINE =
  /\b(?:\w*Error|\w*Exception|ERROR|FAIL(?:ED)?|fatal|panic|Traceback|ERR!)\b|错误|失败|エラー|失敗/
const STACK_FRAME = /^\s*(?:at\s|File "|\d+:\s|#\d+\s|\.\.\.)/
/** A label a line may already start with; it is dropped so the summary never reads "Goal: Goal:". */
const LABEL = /^(?:#+\s*)?(?:goal|latest request|request|task|next steps?|constraints?|decision)\s*:\s*/i

/** Collapses whitespace and cuts to `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text
    .slice(0, max * 4)
    .replace(/\s+/g, ' ')
    .trim()
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`
}

/** Pushes `item` to `list`, moving it to the end when already present (most recent last). */
export function pushRecent(list: string[], item: string): void {
  const i = list.indexOf(item)
  if (i >= 0) list.splice(i, 1)
  list.push(item)
}

const EXTENSIONS = new Set(
  (
    'ts tsx js jsx mjs cjs json md mdx py go rs java kt swift rb php c h cc cpp hpp cs css scss html vue ' +
    'svelte yml yaml toml ini cfg conf env sh bash sql txt lock xml csv log proto graphql tf dockerfile'
  ).split(' '),
)

/** File paths in free text (a shell command): anything with a slash and an extension, or a known extension. */
export function filesIn(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(PATH)) {
    const path = match[1]!
    if (path.includes('/') || EXTENSIONS.has(match[2]!.toLowerCase())) found.push(path)
  }
  return found
}

const clean = (text: string, max: number): string => oneLine(text, max).replace(LABEL, '')

/** Paths a tool call names, read or modified, judged by the tool's name and, for a shell, the command. */
function fileOps(call: ToolCall): { paths: string[]; modified: boolean } {
  const paths: string[] = []
  let command: string | undefined
  if (call.arguments.length <= MAX_PARSED_ARGUMENTS) {
    try {
      const args = JSON.parse(call.arguments) as unknown
      if (typeof args === 'object' && args !== null) {
        for (const [key, value] of Object.entries(args as Record<string, unknown>)) {
          const k = key.toLowerCase()
          if (PATH_KEYS.has(k)) {
            for (const v of Array.isArray(value) ? value : [value])
              if (typeof v === 'string' && v.length < 300) paths.push(v)
          } else if (COMMAND_KEYS.includes(k) && typeof value === 'string') command = value
        }
      }
    } catch {
      command = call.arguments.slice(0, 2_000)
    }
  }
  if (command !== undefined && (paths.length === 0 || SHELL.test(call.name))) {
    const head = command.slice(0, 2_000)
    paths.push(...filesIn(head))
    return { paths, modified: SHELL_MODIFIES.test(head) || MODIFIES.test(call.name) }
  }
  return { paths, modified: MODIFIES.test(call.name) && !/^(?:read|view|get|list)/i.test(call.name) }
}

/** Error lines of a tool output (its first and last few kB; stack frames skipped). */
function errorsIn(output: string, lineChars: number): string[] {
  const text =
    output.length <= 2 * SCAN_CHARS ? output : `${output.slice(0, SCAN_CHARS)}\n${output.slice(-SCAN_CHARS)}`
  const found: string[] = []
  for (const line of text.split('\n')) {
    if (line.length > 0 && !STACK_FRAME.test(line) && ERROR_LINE.test(line))
      found.push(oneLine(line, lineChars))
  }
  return found
}

/** Tools whose output is content read (a file, a search), not the outcome of running something. */
const READS = /read|cat|view|open|get|show|grep|search|find|list|ls|glob|head|tail|load|fetch/i

/**
 * Adds the facts of one message to `f`. `names` maps tool call ids to tool names across calls: the
 * output of a tool that reads content (source code mentions errors too) is not scanned for errors.
 */
export function addFacts(
  f: Facts,
  m: Message,
  lineChars: number,
  maxKept: number,
  names: Map<string, string> = new Map(),
): void {
  if (m.role === 'user') {
    const text = clean(m.content, lineChars)
    if (text.length === 0) return
    f.goal ??= text
    f.latestRequest = text
    for (const sentence of m.content.slice(0, lineChars * 8).split(/(?<=[.!?。！？\n])\s*/)) {
      if (CONSTRAINT.test(sentence) && f.goal !== clean(sentence, lineChars)) {
        pushBounded(f.constraints, clean(sentence, lineChars), maxKept)
      }
    }
  } else if (m.role === 'assistant') {
    if (m.content.trim().length > 0) {
      const text = clean(m.content, lineChars)
      pushBounded(f.decisions, text, maxKept * 4)
      if (NEXT.test(text)) f.nextStep = text
    }
    for (const call of m.toolCalls ?? []) {
      names.set(call.id, call.name)
      if (!f.tools.includes(call.name)) f.tools.push(call.name)
      const ops = fileOps(call)
      for (const path of ops.paths) {
        if (ops.modified) {
          pushRecent(f.filesModified, path)
          const i = f.filesRead.indexOf(path)
          if (i >= 0) f.filesRead.splice(i, 1)
        } else if (!f.filesModified.includes(path)) pushRecent(f.filesRead, path)
      }
    }
  } else if (m.role === 'tool') {
    const name = names.get(m.toolCallId ?? '') ?? ''
    if (READS.test(name) && !SHELL.test(name)) return
    for (const line of errorsIn(m.content, lineChars)) pushBounded(f.errors, line, maxKept * 4)
  }
}

function pushBounded(list: string[], item: string, max: number): void {
  pushRecent(list, item)
  if (list.length > max) list.splice(0, list.length - max)
}

/**
 * Extracts facts from messages in order, yielding to the event loop every few ms so a long
 * transcript never blocks a turn; stops with the signal's reason when it aborts.
 */
export async function factsFromMessages(
  messages: readonly Message[],
  o: { lineChars: number; maxKept: number; signal?: AbortSignal },
): Promise<Facts> {
  const facts = emptyFacts()
  const names = new Map<string, string>()
  let scanned = 0
  for (const m of messages) {
    addFacts(facts, m, o.lineChars, o.maxKept, names)
    scanned += Math.min(m.content.length, 2 * SCAN_CHARS) + 200
    if (scanned >= SLICE_CHARS) {
      await new Promise<void>((resolve) => setImmediate(resolve))
      o.signal?.throwIfAborted()
      scanned = 0
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
      continue
    }
    const result = /^\[tool result \S+ \(([^)]*)\)\]\n/.exec(block)
    if (result)
      messages.push({ id: '', role: 'tool', toolCallId: result[1]!, content: block.slice(result[0].length) })
  }
  return messages
}
