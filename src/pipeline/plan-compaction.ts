import { resolvePolicy, type CompactionPolicy, type ResolvedCompactionPolicy } from './compaction-policy.js'
import { copyMessage, requireMessages, type Message } from './message.js'
import { hashPrefix, leadingSystemEnd, splitLead } from './prefix.js'
import { summaryText } from './summary-block.js'
import { renderTranscript } from './transcript.js'

/** What to summarize and what to keep, computed from a snapshot of the conversation. */
export interface CompactionPlan {
  /** Text snapshot of the summarized messages (tool outputs cut), for the summarizer. */
  readonly transcript: string
  /** The text of the previous `<conversation-summary>` block, trimmed; absent on the first compaction. */
  readonly previousSummary?: string
  /** Id of the last summarized message: it and everything before it (after the pinned messages) is replaced. */
  readonly boundaryMessageId: string
  /** sha256 of the previous summary and the summarized messages; applying refuses when it no longer matches. */
  readonly prefixHash: string
  /** Estimated tokens of the whole conversation when planned. */
  readonly tokensBefore: number
  /** Estimated tokens of what the summary replaces (previous summary + summarized messages). */
  readonly tokensSummarized: number
  /** Copies of the summarized messages. */
  readonly summarized: Message[]
  /** Copies of the messages kept raw. */
  readonly kept: Message[]
}

export interface PlanOptions {
  /** Plan even below the trigger (manual compaction). Default false. */
  force?: boolean
}

/**
 * Plans a compaction (P2). Leading system messages are pinned, except a `<conversation-summary>`
 * block (the previous summary). The most recent messages are kept raw; the cut never separates an
 * assistant's tool call from its result: it moves earlier (keeping more), or later when keeping
 * more would leave nothing to summarize. Returns undefined below the trigger (unless forced), or
 * when nothing would shrink: nothing to summarize, or the summarized part is not larger than
 * `maxSummaryTokens`.
 */
export function planCompaction(
  messages: Message[],
  policy?: CompactionPolicy | ResolvedCompactionPolicy,
  options?: PlanOptions,
): CompactionPlan | undefined {
  const p = resolvePolicy(policy, 'planCompaction')
  requireMessages('planCompaction', messages)
  const n = messages.length
  const tokens = messages.map((m) => p.estimateTokens(m))
  const tokensBefore = tokens.reduce((a, b) => a + b, 0)
  if (options?.force !== true && tokensBefore < p.triggerTokens) return undefined

  const lead = leadingSystemEnd(messages)
  const group = groupStarts(messages, lead)
  const desired = desiredCut(tokens, lead, p)
  let cut = desired
  while (group[cut]! < cut) cut = group[cut]!
  if (cut <= lead) {
    cut = desired
    while (cut < n && group[cut]! < cut) cut++
  }
  if (cut <= lead) return undefined

  const { summaries } = splitLead(messages, lead)
  const summarizedLive = messages.slice(lead, cut)
  let tokensSummarized = 0
  for (let i = 0; i < cut; i++) {
    if (i >= lead || summaries.includes(messages[i]!)) tokensSummarized += tokens[i]!
  }
  if (tokensSummarized <= p.maxSummaryTokens) return undefined

  const previous = summaries.map(summaryText).filter((t) => t.length > 0)
  const plan: CompactionPlan = {
    transcript: renderTranscript(summarizedLive, p.maxToolOutputChars),
    boundaryMessageId: messages[cut - 1]!.id,
    prefixHash: hashPrefix(summaries, summarizedLive),
    tokensBefore,
    tokensSummarized,
    summarized: summarizedLive.map(copyMessage),
    kept: messages.slice(cut).map(copyMessage),
  }
  return previous.length > 0 ? { ...plan, previousSummary: previous.join('\n\n') } : plan
}

/** The cut the policy asks for, before moving it off a tool call group. */
function desiredCut(tokens: readonly number[], lead: number, p: ResolvedCompactionPolicy): number {
  const n = tokens.length
  if (p.keepRecentMessages !== undefined) return Math.max(lead, n - p.keepRecentMessages)
  let cut = n
  let kept = 0
  while (cut > lead && kept + tokens[cut - 1]! <= p.keepRecentTokens!) kept += tokens[--cut]!
  return cut
}

/**
 * For each cut position i (0…n), the earliest index of a tool call whose result lies at or after i:
 * cutting at i is safe only when that is not before i. Entry n is n (an empty tail splits nothing).
 */
function groupStarts(messages: readonly Message[], lead: number): number[] {
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
