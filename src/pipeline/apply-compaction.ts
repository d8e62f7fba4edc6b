import { CompactionRefusedError } from './compaction-errors.js'
import { requireMessages, type Message } from './message.js'
import type { CompactionPlan } from './plan-compaction.js'
import { hashPrefix, leadingSystemEnd, splitLead } from './prefix.js'
import { summaryMessage } from './summary-block.js'

/** True when `summary` is usable: a string with some non-whitespace text. */
export function isWellFormedSummary(summary: unknown): summary is string {
  return typeof summary === 'string' && summary.trim().length > 0
}

/**
 * Applies a summary (P4): the summarized messages and any previous summary are replaced by one
 * system message `<conversation-summary>\n…\n</conversation-summary>` right after the pinned system
 * messages, followed by the messages the plan carries over it (the current turn's user message,
 * P12) and the kept ones, with the tool outputs the plan cut. Messages appended since the plan was
 * made are kept as they are. Returns a new array;
 * `messages` is not modified. Throws `CompactionRefusedError` ('prefix_changed') when the
 * summarized messages are no longer what the plan saw, ('malformed_summary') for an empty or
 * non-string summary.
 */
export function applyCompaction(messages: Message[], plan: CompactionPlan, summary: string): Message[] {
  requireMessages('applyCompaction', messages)
  if (typeof plan?.boundaryMessageId !== 'string' || typeof plan.prefixHash !== 'string') {
    throw new TypeError('applyCompaction: plan must come from planCompaction()')
  }
  if (!isWellFormedSummary(summary)) {
    throw new CompactionRefusedError(
      'malformed_summary',
      `the summary must be a non-empty string, got ${typeof summary === 'string' ? 'an empty string' : typeof summary}`,
    )
  }
  const lead = leadingSystemEnd(messages)
  const boundary = messages.findIndex((m, i) => i >= lead && m.id === plan.boundaryMessageId)
  const { pinned, summaries } = splitLead(messages, lead)
  if (boundary < 0 || hashPrefix(summaries, messages.slice(lead, boundary + 1)) !== plan.prefixHash) {
    throw new CompactionRefusedError(
      'prefix_changed',
      `the messages up to "${plan.boundaryMessageId}" changed since the plan was made`,
    )
  }
  const carried = new Set(plan.carriedIds ?? [])
  const cut = new Map<string, Message>()
  for (const id of plan.cutIds ?? []) {
    const copy = plan.kept.find((m) => m.id === id)
    if (copy !== undefined) cut.set(id, copy)
  }
  const out = [...pinned, summaryMessage(`summary:${plan.boundaryMessageId}`, summary)]
  for (let i = lead; i <= boundary; i++) if (carried.has(messages[i]!.id)) out.push(messages[i]!)
  for (let i = boundary + 1; i < messages.length; i++) {
    const m = messages[i]!
    out.push(cut.get(m.id) ?? m)
  }
  return out
}
