import { abortReason } from '../core/abort.js'
import { optionalNumber, requireOptions } from '../core/validate.js'
import {
  emptyFacts,
  factsFromMessages,
  messagesFromTranscript,
  oneLine,
  pushRecent,
  type Facts,
} from './extract-facts.js'
import type { SummarizeInput, Summarizer } from './summarizer.js'
import { estimateTextTokens } from './tokens.js'

export interface ExtractiveSummarizerOptions {
  /** Upper bound of the summary, in characters (also bounded by the input's `maxTokens`). Default 4 000. */
  maxChars?: number
  /** Files listed per list (read, modified), most recent kept. Default 40. */
  maxFiles?: number
  /** Recent assistant statements listed under "Decisions". Default 5. */
  maxDecisions?: number
  /** Constraints and errors listed, most recent kept. Default 5 each. */
  maxItems?: number
  /** Characters kept per line (goal, request, decision, error). Default 300. */
  lineChars?: number
}

const OWNER = 'extractiveSummarizer'
const HEADER = 'Extractive summary (older messages were removed).'

/**
 * A summarizer that needs no model: deterministic and bounded (P15). It keeps the goal (first user
 * request) and constraints the user stated, the latest request, files read and files modified
 * (from tool calls: their path arguments, or the files a shell command names — never paths inside
 * tool outputs such as stack traces), errors seen in tool outputs, the last assistant statements and
 * the next step they announced. Merged with the previous summary: the goal stays, lists accumulate.
 * A previous summary in another format (an LLM's) is kept, cut, under "Critical context". Its
 * sections are those the LLM summarizer is asked for. It yields to the event loop every few ms.
 * The fallback when the provider is unavailable (P10).
 */
export function extractiveSummarizer(options?: ExtractiveSummarizerOptions): Summarizer {
  const o = requireOptions<ExtractiveSummarizerOptions>(OWNER, options, true)
  const whole = { integer: true, min: 1 }
  const maxChars = optionalNumber(OWNER, 'maxChars', o.maxChars, 4_000, { integer: true, min: 200 })
  const maxFiles = optionalNumber(OWNER, 'maxFiles', o.maxFiles, 40, whole)
  const maxDecisions = optionalNumber(OWNER, 'maxDecisions', o.maxDecisions, 5, whole)
  const maxItems = optionalNumber(OWNER, 'maxItems', o.maxItems, 5, whole)
  const lineChars = optionalNumber(OWNER, 'lineChars', o.lineChars, 300, { integer: true, min: 20 })
  return {
    name: 'extractive',
    async summarize(input: SummarizeInput): Promise<string> {
      if (input.signal?.aborted) throw abortReason(input.signal)
      const messages = input.messages ?? messagesFromTranscript(input.transcript)
      const facts = await factsFromMessages(messages, { lineChars, maxKept: maxItems, signal: input.signal })
      const previous = input.previousSummary?.trim()
      let earlier: string | undefined
      let merged = facts
      if (previous) {
        const old = parse(previous)
        if (old === undefined) earlier = oneLine(previous, lineChars * 3)
        else {
          earlier = old.earlier
          merged = merge(old, facts)
        }
      }
      const limits = { maxFiles, maxDecisions, maxItems }
      const budget = { chars: maxChars, tokens: input.maxTokens ?? Infinity }
      return render(merged, earlier, limits, budget)
    },
  }
}

/** The previous summary's facts updated with the new ones: the goal stays, lists accumulate. */
function merge(old: Facts, f: Facts): Facts {
  const files = (a: string[], b: string[]) => {
    const out = [...a]
    for (const x of b) pushRecent(out, x)
    return out
  }
  const filesModified = files(old.filesModified, f.filesModified)
  return {
    goal: old.goal ?? f.goal,
    constraints: files(old.constraints, f.constraints),
    latestRequest: f.latestRequest ?? old.latestRequest,
    filesRead: files(old.filesRead, f.filesRead).filter((x) => !filesModified.includes(x)),
    filesModified,
    errors: files(old.errors, f.errors),
    decisions: [...old.decisions, ...f.decisions],
    nextStep: f.nextStep ?? old.nextStep,
    tools: files(old.tools, f.tools),
  }
}

interface Limits {
  maxFiles: number
  maxDecisions: number
  maxItems: number
}

const SECTIONS = {
  goal: 'Goal',
  constraints: 'Constraints',
  progress: 'Progress',
  decisions: 'Decisions',
  filesRead: 'Files read',
  filesModified: 'Files modified',
  errors: 'Errors',
  next: 'Next steps',
  earlier: 'Critical context',
} as const

function render(
  f: Facts,
  earlier: string | undefined,
  l: Limits,
  budget: { chars: number; tokens: number },
): string {
  const lists = {
    constraints: f.constraints.slice(-l.maxItems),
    decisions: f.decisions.slice(-l.maxDecisions),
    filesRead: f.filesRead.slice(-l.maxFiles),
    filesModified: f.filesModified.slice(-l.maxFiles),
    errors: f.errors.slice(-l.maxItems),
  }
  const progress = [
    ...(f.latestRequest && f.latestRequest !== f.goal ? [`- Latest request: ${f.latestRequest}`] : []),
    ...(f.tools.length > 0 ? [`- Tools used: ${f.tools.join(', ')}`] : []),
  ]
  const text = (): string => {
    const out = [HEADER]
    const section = (title: string, lines: string[]) => {
      if (lines.length > 0) out.push(`## ${title}`, ...lines)
    }
    section(SECTIONS.goal, f.goal ? [f.goal] : [])
    section(
      SECTIONS.constraints,
      lists.constraints.map((x) => `- ${x}`),
    )
    section(SECTIONS.progress, progress)
    section(
      SECTIONS.decisions,
      lists.decisions.map((x) => `- ${x}`),
    )
    section(
      SECTIONS.filesRead,
      lists.filesRead.map((x) => `- ${x}`),
    )
    section(
      SECTIONS.filesModified,
      lists.filesModified.map((x) => `- ${x}`),
    )
    section(
      SECTIONS.errors,
      lists.errors.map((x) => `- ${x}`),
    )
    section(SECTIONS.next, f.nextStep ? [`- ${f.nextStep}`] : [])
    section(SECTIONS.earlier, earlier ? [earlier] : [])
    return out.join('\n')
  }
  const fits = (t: string) => t.length <= budget.chars && estimateTextTokens(t) <= budget.tokens
  let out = text()
  // Over budget: drop the oldest entry of the longest list (files, errors, decisions…), then cut.
  while (!fits(out)) {
    const longest = (Object.values(lists) as string[][]).reduce((a, b) => (b.length > a.length ? b : a))
    if (longest.length === 0) break
    longest.shift()
    out = text()
  }
  let chars = Math.min(out.length, budget.chars - 1)
  let cut = out
  while (!fits(cut) && chars > 1) {
    chars = Math.max(1, Math.floor(chars * Math.min(0.95, budget.tokens / estimateTextTokens(cut))))
    cut = `${out.slice(0, chars)}…`
  }
  return cut
}

/** Reads back a summary this summarizer wrote; undefined for any other text. */
function parse(text: string): (Facts & { earlier?: string }) | undefined {
  const lines = text.split('\n')
  if (lines[0] !== HEADER) return undefined
  const facts: Facts & { earlier?: string } = emptyFacts()
  let section = ''
  for (const line of lines.slice(1)) {
    if (line.startsWith('## ')) {
      section = line.slice(3)
      continue
    }
    const item = line.startsWith('- ') ? line.slice(2) : line
    if (section === SECTIONS.goal) facts.goal = item
    else if (section === SECTIONS.constraints) facts.constraints.push(item)
    else if (section === SECTIONS.decisions) facts.decisions.push(item)
    else if (section === SECTIONS.filesRead) facts.filesRead.push(item)
    else if (section === SECTIONS.filesModified) facts.filesModified.push(item)
    else if (section === SECTIONS.errors) facts.errors.push(item)
    else if (section === SECTIONS.next) facts.nextStep = item
    else if (section === SECTIONS.earlier) facts.earlier = item
    else if (section === SECTIONS.progress) {
      if (item.startsWith('Latest request: ')) facts.latestRequest = item.slice(16)
      else if (item.startsWith('Tools used: ')) facts.tools = item.slice(12).split(', ').filter(Boolean)
    }
  }
  return facts
}
