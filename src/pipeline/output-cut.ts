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
    const share = Math.max(0, (tokens - (excess - saved)) / tokens)
    const keep = Math.max(floorChars, Math.floor(m.content.length * share))
    if (keep >= m.content.length) continue
    const copy = copyMessage(m)
    copy.content = cutMiddle(m.content, keep)
    saved += tokens - estimate(copy)
    replaced.set(m, copy)
  }
  return { saved, replaced }
}
