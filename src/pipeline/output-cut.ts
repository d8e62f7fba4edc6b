import { copyMessage, type Message } from './message.js'
import type { TokenEstimator } from './tokens.js'

/** Share of a cut text kept from its start; the rest comes from its end (where errors and totals are). */
const HEAD_SHARE = 2 / 3

/** `text` cut to about `keep` characters: its start and end, with a marker saying how much is missing. */
export function cutMiddle(text: string, keep: number): string {
  if (text.length <= keep) return text
  const head = Math.floor(keep * HEAD_SHARE)
  const tail = Math.max(0, keep - head)
  const missing = text.length - head - tail
  return `${text.slice(0, head)}\n… [${missing} characters cut to fit the context window] …\n${tail > 0 ? text.slice(-tail) : ''}`
}

/**
 * Cuts the largest of `messages` (by tokens) until `excess` tokens are saved or none is left above
 * `floorChars` characters. Returns the tokens saved and, for each message cut, its cut copy.
 */
export function cutLargest(
  messages: readonly Message[],
  excess: number,
  estimate: TokenEstimator,
  floorChars: number,
): { saved: number; replaced: Map<Message, Message> } {
  const replaced = new Map<Message, Message>()
  let saved = 0
  if (excess <= 0) return { saved, replaced }
  const candidates = messages
    .filter((m) => m.content.length > floorChars)
    .map((m) => ({ m, tokens: estimate(m) }))
    .sort((a, b) => b.tokens - a.tokens)
  for (const { m, tokens } of candidates) {
    if (saved >= excess) break
    // Token counts are not linear in characters: aim, count, and aim again from the cut (a few rounds).
    let keep = m.content.length
    let cutTokens = tokens
    let copy: Message | undefined
    for (let round = 0; round < 4 && saved + tokens - cutTokens < excess && keep > floorChars; round++) {
      const need = excess - saved - (tokens - cutTokens)
      keep = Math.max(floorChars, Math.floor(keep * Math.max(0, (cutTokens - need) / cutTokens) * 0.98))
      copy = copyMessage(m)
      copy.content = cutMiddle(m.content, keep)
      cutTokens = estimate(copy)
    }
    if (copy === undefined) continue
    saved += tokens - cutTokens
    replaced.set(m, copy)
  }
  return { saved, replaced }
}
