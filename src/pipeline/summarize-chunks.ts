import type { ResolvedCompactionPolicy } from './compaction-policy.js'
import type { Message } from './message.js'
import { renderBlocks } from './transcript.js'

/**
 * Tokens reserved in every summarize request for the instructions, the section list and the
 * model's framing (the prompts of summary-prompts.ts are about 350 tokens).
 */
export const SUMMARIZE_PROMPT_TOKENS = 1_024

/** One summarize request's share of a plan: consecutive messages and their transcript. */
export interface SummarizeChunk {
  readonly transcript: string
  readonly messages: readonly Message[]
  /** The transcript's tokens, by the policy's count. */
  readonly tokens: number
}

/**
 * Characters counted between two yields to the event loop (about 2 ms of counting): by amount of
 * work rather than time, so a short transcript is always chunked in one go.
 */
const SLICE_CHARS = 150_000

/** Tokens a summarize request may spend on transcript and previous summary together. */
export function summarizeInputBudget(p: ResolvedCompactionPolicy): number {
  return Math.max(1, p.summarizerWindow - p.maxSummaryTokens - SUMMARIZE_PROMPT_TOKENS)
}

/**
 * Splits the summarized messages into chunks whose transcript, with a previous summary of up to
 * `maxSummaryTokens` (or the plan's own, if larger), fits the summarizer's window (P14). Each chunk
 * is summarized in turn, the summary so far passed as the previous one, so no request is ever sent
 * over the window however long the conversation grew. A single message too large for a chunk is
 * cut. A plan that fits is one chunk: the plan's own transcript.
 */
export function summarizeChunks(
  messages: readonly Message[],
  previousTokens: number,
  p: ResolvedCompactionPolicy,
  signal?: AbortSignal,
): SummarizeChunk[] | Promise<SummarizeChunk[]> {
  const budget = summarizeInputBudget(p)
  const room = Math.max(
    1,
    budget - Math.min(Math.max(previousTokens, p.maxSummaryTokens), Math.floor(budget / 2)),
  )
  const blocks = renderBlocks(messages, p.maxToolOutputChars)
  const chunks: SummarizeChunk[] = []
  let texts: string[] = []
  let members: Message[] = []
  let used = 0
  const flush = () => {
    if (members.length > 0) {
      chunks.push({
        transcript: texts.filter((t) => t.length > 0).join('\n\n'),
        messages: members,
        tokens: used,
      })
    }
    texts = []
    members = []
    used = 0
  }
  let i = 0
  // Counting a long transcript takes a while: it yields every few ms so no turn waits on it (and
  // returns at once, without a promise, when it is short).
  const step = (): SummarizeChunk[] | Promise<SummarizeChunk[]> => {
    let counted = 0
    for (; i < blocks.length; i++) {
      if (counted >= SLICE_CHARS) {
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          signal?.throwIfAborted()
          return step()
        })
      }
      let text = blocks[i]!
      counted += text.length
      let tokens = p.countTokens(text) + 1
      if (tokens > room) {
        text = fitText(text, room, p)
        tokens = p.countTokens(text) + 1
      }
      if (used + tokens > room) flush()
      texts.push(text)
      members.push(messages[i]!)
      used += tokens
    }
    flush()
    return chunks
  }
  return step()
}

/** `text` cut (its start kept) to at most `tokens` by the policy's count. */
export function fitText(
  text: string,
  tokens: number,
  p: Pick<ResolvedCompactionPolicy, 'countTokens'>,
): string {
  let chars = text.length
  let out = text
  for (let count = p.countTokens(out); count > tokens && chars > 1; count = p.countTokens(out)) {
    chars = Math.max(1, Math.floor(chars * (tokens / count) * 0.95))
    out = `${text.slice(0, chars)}… [cut]`
  }
  return out
}
