import type { Message } from './message.js'

/**
 * For each cut position i (0…n), the earliest index of a tool call whose result lies at or after i:
 * cutting at i is safe only when that is not before i. Entry n is n (an empty tail splits nothing).
 */
export function groupStarts(messages: readonly Message[], lead: number): number[] {
  const n = messages.length
  const callIndex = new Map<string, number>()
  for (let i = lead; i < n; i++) {
    for (const call of messages[i]!.toolCalls ?? []) callIndex.set(call.id, i)
  }
  const start = new Array<number>(n + 1)
  start[n] = n
  for (let i = n - 1; i >= 0; i--) {
    const m = messages[i]!
    const k = m.role === 'tool' && m.toolCallId !== undefined ? callIndex.get(m.toolCallId) : undefined
    start[i] = Math.min(start[i + 1]!, k !== undefined && k < i ? k : i)
  }
  return start
}

/** The part of the conversation that must survive any compaction or trim (P12). */
export interface CurrentTurn {
  /** Index of the latest user message after the pinned ones, or -1. */
  readonly userIndex: number
  /**
   * Everything from here on is kept raw: the turn's latest tool call group and what follows it, or
   * the latest user message when the turn made no tool call yet, or (with no user message) the last
   * message's group — so a compacted conversation always holds a non-system message.
   */
  readonly keepFrom: number
}

export function currentTurn(
  messages: readonly Message[],
  lead: number,
  group: readonly number[],
): CurrentTurn {
  const n = messages.length
  let userIndex = -1
  for (let i = n - 1; i >= lead; i--) {
    if (messages[i]!.role === 'user') {
      userIndex = i
      break
    }
  }
  for (let i = n - 1; i > Math.max(lead - 1, userIndex); i--) {
    if ((messages[i]!.toolCalls?.length ?? 0) > 0) return { userIndex, keepFrom: Math.max(lead, group[i]!) }
  }
  if (userIndex >= 0) return { userIndex, keepFrom: userIndex }
  return { userIndex, keepFrom: n > lead ? Math.max(lead, group[n - 1]!) : n }
}
