import { abortReason } from '../core/abort.js'
import { optionalNumber, requireOptions } from '../core/validate.js'
import { CHARS_PER_TOKEN } from './tokens.js'
import {
  factsFromMessages,
  messagesFromTranscript,
  oneLine,
  pushRecent,
  type Facts,
} from './extract-facts.js'
import type { SummarizeInput, Summarizer } from './summarizer.js'

export interface ExtractiveSummarizerOptions {
  /** Upper bound of the summary, in characters (also bounded by the input's `maxTokens` × 4). Default 4 000. */
  maxChars?: number
  /** Files listed, most recent first kept. Default 40. */
  maxFiles?: number
  /** Recent assistant statements listed under "Decisions". Default 5. */
  maxDecisions?: number
  /** Characters kept per line (goal, request, decision). Default 300. */
  lineChars?: number
}

const OWNER = 'extractiveSummarizer'
const HEADER = 'Extractive summary (older messages were removed).'

/**
 * A summarizer that needs no model: deterministic and bounded. It keeps the goal (first user
 * message), the latest request, files mentioned, tool names used and the last assistant statements,
 * merged with the previous summary (its goal is kept; files and tools accumulate). A previous summary
 * in another format (an LLM's) is kept, cut, under "Earlier summary". The fallback when the provider
 * is unavailable (P10).
 */
export function extractiveSummarizer(options?: ExtractiveSummarizerOptions): Summarizer {
  const o = requireOptions<ExtractiveSummarizerOptions>(OWNER, options, true)
  const whole = { integer: true, min: 1 }
  const maxChars = optionalNumber(OWNER, 'maxChars', o.maxChars, 4_000, { integer: true, min: 200 })
  const maxFiles = optionalNumber(OWNER, 'maxFiles', o.maxFiles, 40, whole)
  const maxDecisions = optionalNumber(OWNER, 'maxDecisions', o.maxDecisions, 5, whole)
  const lineChars = optionalNumber(OWNER, 'lineChars', o.lineChars, 300, { integer: true, min: 20 })
  return {
    name: 'extractive',
    summarize(input: SummarizeInput): Promise<string> {
      if (input.signal?.aborted) return Promise.reject(abortReason(input.signal))
      const facts = factsFromMessages(input.messages ?? messagesFromTranscript(input.transcript), lineChars)
      const previous = input.previousSummary?.trim()
      let earlier: string | undefined
      if (previous) {
        const old = parse(previous)
        if (old === undefined) earlier = oneLine(previous, lineChars * 3)
        else {
          facts.goal = old.goal ?? facts.goal
          facts.latestRequest ??= old.latestRequest
          earlier = old.earlier
          const files = [...old.files]
          for (const f of facts.files) pushRecent(files, f)
          facts.files = files
          facts.tools = [...old.tools, ...facts.tools.filter((t) => !old.tools.includes(t))]
          facts.decisions = [...old.decisions, ...facts.decisions]
        }
      }
      const budget = Math.min(maxChars, (input.maxTokens ?? Infinity) * CHARS_PER_TOKEN)
      return Promise.resolve(render(facts, earlier, { maxFiles, maxDecisions, budget }))
    },
  }
}

function render(
  f: Facts,
  earlier: string | undefined,
  o: { maxFiles: number; maxDecisions: number; budget: number },
): string {
  const lines = [HEADER]
  if (f.goal) lines.push(`Goal: ${f.goal}`)
  if (f.latestRequest && f.latestRequest !== f.goal) lines.push(`Latest request: ${f.latestRequest}`)
  if (f.files.length > 0) lines.push(`Files: ${f.files.slice(-o.maxFiles).join(', ')}`)
  if (f.tools.length > 0) lines.push(`Tools used: ${f.tools.join(', ')}`)
  if (earlier) lines.push(`Earlier summary: ${earlier}`)
  const decisions = f.decisions.slice(-o.maxDecisions)
  if (decisions.length > 0) lines.push('Decisions:', ...decisions.map((d) => `- ${d}`))
  // Drop the oldest decisions, then whole lines from the end, until it fits; never exceed the budget.
  while (lines.join('\n').length > o.budget && lines.length > 2) {
    const first = lines.findIndex((l) => l.startsWith('- '))
    lines.splice(first >= 0 ? first : lines.length - 1, 1)
    if (lines.at(-1) === 'Decisions:') lines.pop()
  }
  const text = lines.join('\n')
  return text.length <= o.budget ? text : `${text.slice(0, Math.max(1, o.budget - 1))}…`
}

/** Reads back a summary this summarizer wrote; undefined for any other text. */
function parse(text: string): (Facts & { earlier?: string }) | undefined {
  const lines = text.split('\n')
  if (lines[0] !== HEADER) return undefined
  const facts: Facts & { earlier?: string } = { files: [], tools: [], decisions: [] }
  for (const line of lines.slice(1)) {
    const [key, value] = splitOnce(line)
    if (key === 'Goal') facts.goal = value
    else if (key === 'Latest request') facts.latestRequest = value
    else if (key === 'Files') facts.files = value.split(', ').filter(Boolean)
    else if (key === 'Tools used') facts.tools = value.split(', ').filter(Boolean)
    else if (key === 'Earlier summary') facts.earlier = value
    else if (line.startsWith('- ')) facts.decisions.push(line.slice(2))
  }
  return facts
}

function splitOnce(line: string): [string, string] {
  const i = line.indexOf(': ')
  return i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)]
}
