import type { Message } from './message.js'

/** Estimates how many tokens one message costs in the model's context. */
export type TokenEstimator = (message: Message) => number

/** Counts the tokens of a text (a real tokenizer's `countTokens`, or the default estimate). */
export type TextTokenCounter = (text: string) => number

/** Tokens added per message for role and framing, as chat formats do. */
export const MESSAGE_OVERHEAD_TOKENS = 4

/*
 * The default estimate follows how BPE tokenizers of the o200k family split text before merging:
 * runs of letters (a lower-to-upper case change starts a new piece, as in camelCase), runs of at
 * most three digits, punctuation runs (one punctuation character before a word joins the word, a
 * newline after punctuation joins the punctuation), whitespace (a single space joins the next
 * word), and CJK text, which costs most per character. The weights were fitted against o200k on
 * code, prose, pretty and minified JSON, logs with stack traces, shell output, Chinese and
 * Japanese (test/pipeline/token-estimate.test.ts checks them), then raised by ESTIMATE_HEADROOM so
 * the estimate errs high: an under-count makes compaction fire too late.
 */
/** Characters of a letter piece per token. */
const LETTERS_PER_TOKEN = 8
/** Digits per token (o200k splits digit runs in groups of at most three). */
const DIGITS_PER_TOKEN = 2.5
/** Punctuation characters per token. */
const PUNCT_PER_TOKEN = 1.5
/** Tokens per CJK character (Han, kana, Hangul, full-width forms). */
const CJK_TOKENS_PER_CHAR = 0.7
/** Tokens per other non-ASCII character (accents, symbols, emoji halves). */
const OTHER_TOKENS_PER_CHAR = 1
/** Margin on top of the fitted estimate, so it stays at or above the real count on every kind measured. */
export const ESTIMATE_HEADROOM = 1.1

const LETTER = 0
const DIGIT = 1
const SPACE = 2
const NEWLINE = 3
const PUNCT = 4
const CJK = 5
const OTHER = 6

/** Class of each ASCII character. */
const ASCII = new Uint8Array(128).map((_, c) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90)
    ? LETTER
    : c >= 48 && c <= 57
      ? DIGIT
      : c === 32 || c === 9
        ? SPACE
        : c === 10 || c === 13
          ? NEWLINE
          : PUNCT,
)

function classOf(c: number): number {
  if (c < 128) return ASCII[c]!
  if (
    (c >= 0x3000 && c <= 0x9fff) ||
    (c >= 0xac00 && c <= 0xd7af) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xff00 && c <= 0xffef)
  ) {
    return CJK
  }
  return OTHER
}

/**
 * The default text estimate, calibrated against o200k (see above): between about 1.0 and 1.2 ×
 * the real count on code, prose, JSON, logs and CJK. One pass over the characters, run by run, no
 * allocation.
 */
export function estimateTextTokens(text: string): number {
  let tokens = 0
  let before = -1
  const n = text.length
  let i = 0
  let k = n > 0 ? classOf(text.charCodeAt(0)) : -1
  while (i < n) {
    let j = i + 1
    let next = -1
    if (k === LETTER) {
      // A lower-to-upper case change starts a new piece (camelCase), as o200k splits it.
      let lower = text.charCodeAt(i) >= 97
      while (j < n) {
        const d = text.charCodeAt(j)
        if (d >= 128 || ASCII[d] !== LETTER) break
        const upper = d <= 90
        if (upper && lower) break
        lower = !upper
        j++
      }
    } else if (k === CJK || k === OTHER) {
      while (j < n && text.charCodeAt(j) >= 128 && classOf(text.charCodeAt(j)) === k) j++
    } else {
      while (j < n) {
        const d = text.charCodeAt(j)
        if (d >= 128 || ASCII[d] !== k) break
        j++
      }
    }
    if (j < n) next = classOf(text.charCodeAt(j))
    const run = j - i
    if (k === LETTER) tokens += Math.ceil(run / LETTERS_PER_TOKEN)
    else if (k === DIGIT) tokens += Math.ceil(run / DIGITS_PER_TOKEN)
    else if (k === SPACE) tokens += run > 1 ? 1 : 0
    else if (k === NEWLINE) tokens += before === PUNCT ? 0 : 1
    else if (k === PUNCT) tokens += Math.ceil((next === LETTER ? run - 1 : run) / PUNCT_PER_TOKEN)
    else if (k === CJK) tokens += run * CJK_TOKENS_PER_CHAR
    else tokens += run * OTHER_TOKENS_PER_CHAR
    before = k
    k = next
    i = j
  }
  return Math.ceil(tokens * ESTIMATE_HEADROOM)
}

/** A message estimator built on a text counter: content, tool call names and arguments, plus framing. */
export function messageEstimator(count: TextTokenCounter): TokenEstimator {
  return (message: Message): number => {
    let tokens = count(message.content) + MESSAGE_OVERHEAD_TOKENS
    if (message.toolCalls !== undefined) {
      for (const call of message.toolCalls) tokens += count(call.name) + count(call.arguments)
    }
    return tokens
  }
}

/**
 * The default estimator: `estimateTextTokens` of the content and of every tool call's name and
 * arguments, plus 4 per message. It needs no tokenizer; plug a real one through the policy's
 * `countTokens` when exact counts matter.
 */
export const estimateTokens: TokenEstimator = messageEstimator(estimateTextTokens)

/** Sum of the estimates of `messages`. */
export function estimateTotal(
  messages: readonly Message[],
  estimate: TokenEstimator = estimateTokens,
): number {
  let total = 0
  for (const m of messages) total += estimate(m)
  return total
}
