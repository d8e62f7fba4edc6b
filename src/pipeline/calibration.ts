import { withEstimator, type ResolvedCompactionPolicy } from './compaction-policy.js'
import type { Message } from './message.js'
import { estimateTotal } from './tokens.js'

/** A session's calibration factor stays within these bounds: a usage report out of them is clamped. */
export const MIN_CALIBRATION = 0.5
export const MAX_CALIBRATION = 4
/**
 * After a context-overflow error that does not say how long the prompt was, counts are raised so
 * the refused request reads as this much over the budget: the next one is smaller for certain.
 */
export const OVERFLOW_MARGIN = 1.1

/**
 * One session's correction of the estimate (P13): the provider's reported input tokens over the
 * estimate of what was sent. Applied to every count, so a conversation in a script, a tokenizer or
 * a tool-definition overhead the estimate misses is corrected from the first reply on.
 */
export class Calibration {
  private current = 1
  private scaled: ResolvedCompactionPolicy

  constructor(private readonly base: ResolvedCompactionPolicy) {
    this.scaled = base
  }

  /** The factor applied to every estimate (1 until a usage report or an overflow). */
  get factor(): number {
    return this.current
  }

  /** The policy whose `estimateTokens` applies the factor. */
  get policy(): ResolvedCompactionPolicy {
    return this.scaled
  }

  /** The uncalibrated estimate of `messages` (cached per message). */
  raw(messages: readonly Message[]): number {
    return estimateTotal(messages, this.base.estimateTokens)
  }

  /**
   * The calibrated count of `messages`. The last list counted is remembered by position, so a
   * conversation that only grew costs a pointer check per message and the estimate of the new ones.
   */
  count(messages: readonly Message[]): number {
    const estimate = this.scaled.estimateTokens
    const last = this.last
    if (last === undefined || last.estimate !== estimate) {
      this.last = { estimate, refs: [], contents: [], calls: [], counts: [] }
      return this.count(messages)
    }
    let total = 0
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!
      if (last.refs[i] !== m || last.contents[i] !== m.content || last.calls[i] !== m.toolCalls) {
        last.refs[i] = m
        last.contents[i] = m.content
        last.calls[i] = m.toolCalls
        last.counts[i] = estimate(m)
      }
      total += last.counts[i]!
    }
    last.refs.length = last.contents.length = last.calls.length = last.counts.length = messages.length
    return total
  }

  private last:
    | {
        estimate: (m: Message) => number
        refs: Message[]
        contents: string[]
        calls: Message['toolCalls'][]
        counts: number[]
      }
    | undefined

  /** The provider counted `inputTokens` for a request whose raw estimate was `rawSent`. */
  observe(inputTokens: number, rawSent: number): void {
    if (rawSent > 0) this.set(inputTokens / rawSent)
  }

  /**
   * The provider refused a request of `rawSent` estimated tokens as too long for `budget`. Uses the
   * prompt length its message states when there is one, else raises the counts past the budget.
   */
  overflowed(error: unknown, rawSent: number, budget: number): void {
    if (rawSent <= 0) return
    const stated = statedPromptTokens(error)
    const floor = (budget * OVERFLOW_MARGIN) / rawSent
    this.set(Math.max(this.current * OVERFLOW_MARGIN, floor, stated !== undefined ? stated / rawSent : 0))
  }

  private set(factor: number): void {
    const f = Math.min(MAX_CALIBRATION, Math.max(MIN_CALIBRATION, factor))
    if (f === this.current) return
    this.current = f
    const estimate = this.base.estimateTokens
    this.scaled = f === 1 ? this.base : withEstimator(this.base, (m) => Math.ceil(estimate(m) * f))
  }
}

/*
 * The prompt length an overflow error states: Anthropic "prompt is too long: 215000 tokens > 200000
 * maximum"; OpenAI "... your messages resulted in 130000 tokens ..." or "you requested 140000
 * tokens (130000 in the messages, 10000 in the completion)".
 */
const STATED = [
  /prompt is too long:\s*(\d+)\s*tokens/i,
  /\((\d+) in the messages/i,
  /resulted in (\d+) tokens/i,
]

function statedPromptTokens(error: unknown): number | undefined {
  for (const text of messagesOf(error)) {
    for (const pattern of STATED) {
      const match = pattern.exec(text)
      if (match) return Number(match[1])
    }
  }
  return undefined
}

function messagesOf(error: unknown): string[] {
  const out: string[] = []
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 3) return
    const v = value as Record<string, unknown>
    if (typeof v.message === 'string') out.push(v.message)
    if (typeof v.responseBody === 'string') out.push(v.responseBody)
    visit(v.error, depth + 1)
    visit(v.data, depth + 1)
  }
  visit(error, 0)
  return out
}
