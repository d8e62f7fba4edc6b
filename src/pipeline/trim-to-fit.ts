import { CompactionRefusedError } from './compaction-errors.js'
import type { ResolvedCompactionPolicy } from './compaction-policy.js'
import type { Message } from './message.js'
import { cutLargest } from './output-cut.js'
import { leadingSystemEnd, splitLead } from './prefix.js'
import { currentTurn, groupStarts } from './turn.js'

/** The least a cut message keeps, in characters, when nothing else is left to remove. */
const LAST_RESORT_CHARS = 200

export interface Trimmed {
  readonly messages: Message[]
  readonly tokensBefore: number
  readonly tokensAfter: number
  readonly droppedMessages: number
  readonly cutMessages: number
}

/**
 * The last resort of P11: makes `messages` fit `budget` without a summarizer. In order, until it
 * fits: drops the oldest messages after the pinned ones and the summary (whole tool call groups, so
 * no result is left without its call) up to the current turn; cuts the largest tool outputs with a
 * marker, down to `maxToolOutputChars`; drops the current turn's older groups; cuts tool outputs
 * further; cuts any other unpinned message (the summary, long user or assistant text). The current
 * turn's user message and latest tool call group are never dropped (P12); pinned system messages are
 * never touched — if they alone exceed the budget, throws CompactionRefusedError('cannot_fit').
 */
export function trimToFit(
  messages: readonly Message[],
  budget: number,
  p: ResolvedCompactionPolicy,
): Trimmed {
  const count = p.estimateTokens
  let total = 0
  for (const m of messages) total += count(m)
  const tokensBefore = total
  const n = messages.length
  const lead = leadingSystemEnd(messages)
  const group = groupStarts(messages, lead)
  const turn = currentTurn(messages, lead, group)
  const turnStart = turn.userIndex >= lead ? turn.userIndex : turn.keepFrom
  const { pinned } = splitLead(messages, lead)
  const dropped = new Set<number>()
  const replaced = new Map<Message, Message>()

  /** Drops whole groups in [from, to), oldest first, sparing the current turn's user message. */
  const dropGroups = (from: number, to: number): void => {
    for (let i = from; i < to && total > budget;) {
      let j = i + 1
      while (j < n && group[j]! < j) j++
      if (!(turn.userIndex >= i && turn.userIndex < j) && j <= to) {
        for (let k = i; k < j; k++) {
          dropped.add(k)
          total -= count(replaced.get(messages[k]!) ?? messages[k]!)
        }
      }
      i = j
    }
  }
  /** Cuts the largest messages that `which` selects down to `floor` characters. */
  const cut = (which: (m: Message) => boolean, floor: number): void => {
    if (total <= budget) return
    const pool = messages.filter((m, i) => !dropped.has(i) && which(m)).map((m) => replaced.get(m) ?? m)
    const r = cutLargest(pool, total - budget, count, floor)
    total -= r.saved
    for (const [from, to] of r.replaced) {
      const original = messages.find((m) => (replaced.get(m) ?? m) === from)!
      replaced.set(original, to)
    }
  }
  const isTool = (m: Message) => m.role === 'tool'

  if (total > budget) dropGroups(lead, turnStart)
  cut(isTool, p.maxToolOutputChars)
  if (total > budget) dropGroups(turnStart + 1, turn.keepFrom)
  cut(isTool, LAST_RESORT_CHARS)
  cut((m) => !pinned.includes(m), LAST_RESORT_CHARS)
  if (total > budget) {
    throw new CompactionRefusedError(
      'cannot_fit',
      `${total} tokens remain after compaction and trimming, over the budget of ${budget} (window − output tokens): the pinned system messages alone are too large`,
      total,
    )
  }
  const out: Message[] = []
  for (let i = 0; i < n; i++) if (!dropped.has(i)) out.push(replaced.get(messages[i]!) ?? messages[i]!)
  return {
    messages: out,
    tokensBefore,
    tokensAfter: total,
    droppedMessages: dropped.size,
    cutMessages: replaced.size,
  }
}
