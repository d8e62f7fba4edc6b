import { resolvePolicy, type CompactionPolicy, type ResolvedCompactionPolicy } from './compaction-policy.js'
import { copyMessage, requireMessages, type Message } from './message.js'
import { cutLargest } from './output-cut.js'
import { hashPrefix, leadingSystemEnd, splitLead } from './prefix.js'
import { summaryText } from './summary-block.js'
import { renderTranscript } from './transcript.js'
import { currentTurn, groupStarts } from './turn.js'

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
  /** Estimated tokens that stay besides the summary: pinned messages and `kept` (outputs cut). */
  readonly tokensKept: number
  /**
   * False when even a summary within `maxSummaryTokens` could not end below the target (the kept
   * part is too large): such a plan is never sent to a paid summarizer (P14).
   */
  readonly reachesTarget: boolean
  /** Copies of the summarized messages. */
  readonly summarized: Message[]
  /**
   * Copies of the messages kept raw, in order: the current turn's user message first when the cut
   * falls inside that turn (it is carried over the summary, P12), then the tail.
   */
  readonly kept: Message[]
  /** Ids of summarized-range messages that stay raw after the summary (the current turn's user message). */
  readonly carriedIds: readonly string[]
  /** Kept tool results whose output was cut to fit (by id; `kept` holds the cut copies). */
  readonly cutIds: readonly string[]
}

export interface PlanOptions {
  /** Plan even below the trigger (manual and foreground compaction). Default false. */
  force?: boolean
}

/**
 * Plans a compaction (P2, P12). Leading system messages are pinned, except a
 * `<conversation-summary>` block (the previous summary). The most recent messages are kept raw; the
 * cut never separates an assistant's tool call from its result. The current turn survives: its
 * latest tool call group (with everything after it) is always kept, and its user message is carried
 * over the summary when the cut falls inside the turn (an oversized turn is split, its older part
 * summarized). Kept tool outputs too large for the target are cut with a marker. Returns undefined
 * below the trigger (unless forced), or when nothing would shrink.
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
  let tokensBefore = 0
  for (const t of tokens) tokensBefore += t
  if (options?.force !== true && tokensBefore < p.triggerTokens) return undefined

  const lead = leadingSystemEnd(messages)
  const { pinned, summaries } = splitLead(messages, lead)
  let pinnedTokens = 0
  for (let i = 0; i < lead; i++) if (pinned.includes(messages[i]!)) pinnedTokens += tokens[i]!
  const group = groupStarts(messages, lead)
  const turn = currentTurn(messages, lead, group)
  const cut = chooseCut(tokens, lead, group, turn.keepFrom, pinnedTokens, p)
  if (cut <= lead) return undefined

  const carried = turn.userIndex >= lead && turn.userIndex < cut ? [turn.userIndex] : []
  let tail = messages.slice(cut).map(copyMessage)
  let tokensSummarized = 0
  for (let i = 0; i < cut; i++) {
    if ((i >= lead && !carried.includes(i)) || summaries.includes(messages[i]!))
      tokensSummarized += tokens[i]!
  }
  let keptTokens = 0
  for (const i of carried) keptTokens += tokens[i]!
  for (let i = cut; i < n; i++) keptTokens += tokens[i]!
  // Kept tool outputs are cut only as far as the target needs (largest first, never below maxToolOutputChars).
  const room = p.targetTokens - 1 - pinnedTokens - p.maxSummaryTokens
  const cutOutputs = cutLargest(
    tail.filter((m) => m.role === 'tool'),
    keptTokens - room,
    p.estimateTokens,
    p.maxToolOutputChars,
  )
  keptTokens -= cutOutputs.saved
  tail = tail.map((m) => cutOutputs.replaced.get(m) ?? m)
  const cutIds = [...cutOutputs.replaced.values()].map((m) => m.id)
  const tokensKept = pinnedTokens + keptTokens
  if (tokensSummarized <= p.maxSummaryTokens && cutIds.length === 0) return undefined

  const summarizedLive = messages.slice(lead, cut)
  const snapshot = summarizedLive.map(copyMessage)
  const previous = summaries.map(summaryText).filter((t) => t.length > 0)
  const plan = {
    boundaryMessageId: messages[cut - 1]!.id,
    prefixHash: hashPrefix(summaries, summarizedLive),
    tokensBefore,
    tokensSummarized,
    tokensKept,
    reachesTarget: tokensKept + p.maxSummaryTokens < p.targetTokens,
    summarized: snapshot.filter((_, i) => !carried.includes(lead + i)),
    kept: [...carried.map((i) => snapshot[i - lead]!), ...tail],
    carriedIds: carried.map((i) => messages[i]!.id),
    cutIds,
    ...(previous.length > 0 ? { previousSummary: previous.join('\n\n') } : {}),
  }
  // Rendered from the snapshot when first read: a chunked summarize never needs it whole, and the
  // plan is made synchronously at the turn boundary, where time is the turn's.
  let transcript: string | undefined
  Object.defineProperty(plan, 'transcript', {
    enumerable: true,
    get: () => (transcript ??= renderTranscript(snapshot, p.maxToolOutputChars)),
  })
  return plan as unknown as CompactionPlan
}

/**
 * Where the summarized part ends: the policy's cut (keepRecentMessages / keepRecentTokens), never
 * after `keepFrom` (the current turn's last tool call group), moved to a group boundary — earlier
 * (keeping more), unless only the later boundary lets the result reach the target.
 */
function chooseCut(
  tokens: readonly number[],
  lead: number,
  group: readonly number[],
  keepFrom: number,
  pinnedTokens: number,
  p: ResolvedCompactionPolicy,
): number {
  const n = tokens.length
  let desired: number
  if (p.keepRecentMessages !== undefined) desired = Math.max(lead, n - p.keepRecentMessages)
  else {
    desired = n
    let kept = 0
    while (desired > lead && kept + tokens[desired - 1]! <= p.keepRecentTokens!) kept += tokens[--desired]!
  }
  desired = Math.min(desired, keepFrom)
  let earlier = desired
  while (group[earlier]! < earlier) earlier = group[earlier]!
  let later = desired
  while (later < keepFrom && group[later]! < later) later++
  const laterOk = later <= keepFrom && group[later]! >= later && later > lead
  if (earlier <= lead) return laterOk ? later : lead
  if (earlier === later || !laterOk) return earlier
  // Keeping a whole large group is preferred, unless only the later cut can reach the target.
  const keptFrom = (from: number) => {
    let kept = pinnedTokens + p.maxSummaryTokens
    for (let i = from; i < n; i++) kept += tokens[i]!
    return kept
  }
  return keptFrom(earlier) >= p.targetTokens && keptFrom(later) < p.targetTokens ? later : earlier
}
