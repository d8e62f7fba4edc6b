import { invalidOption, optionalFunction, optionalNumber, requireOptions } from '../core/validate.js'
import { cachedEstimator } from './token-cache.js'
import {
  estimateTextTokens,
  estimateTokens,
  messageEstimator,
  type TextTokenCounter,
  type TokenEstimator,
} from './tokens.js'

/** Default context window, in tokens. */
export const DEFAULT_CONTEXT_WINDOW = 128_000
/** Default trigger, as a fraction of the context window. */
export const DEFAULT_TRIGGER_FRACTION = 0.8
/** Default share of the trigger kept raw at the end of the conversation (pi keeps 20 000 of ~200 000). */
export const DEFAULT_KEEP_RECENT_FRACTION = 0.25
/** Default summary budget: 10 % of the trigger, at most this many tokens. */
export const MAX_DEFAULT_SUMMARY_TOKENS = 8_192
/** Default cut applied to each tool output before it reaches the summarizer, in characters. */
export const DEFAULT_MAX_TOOL_OUTPUT_CHARS = 2_000
/** A compaction must end below this fraction of the trigger, or it is refused (no compaction loops). */
export const COMPACTION_TARGET_RATIO = 0.8

/** When to compact and what to keep. Every field is optional; see each for its default. */
export interface CompactionPolicy {
  /** The model's context window, in tokens. Default 128 000. */
  contextWindow?: number
  /** Compact once the conversation reaches this many tokens (≤ contextWindow). Exclusive with `triggerFraction`. Default: `triggerFraction` of the window. */
  triggerTokens?: number
  /** Compact once the conversation reaches this fraction of `contextWindow` (0 < f ≤ 1). Default 0.8. */
  triggerFraction?: number
  /** Keep this many of the most recent messages raw (whole tool call groups; may keep a few more). Exclusive with `keepRecentTokens`. */
  keepRecentMessages?: number
  /** Keep the most recent messages raw up to this many tokens. Default: 25 % of the trigger (when `keepRecentMessages` is not set). */
  keepRecentTokens?: number
  /**
   * Budget of the summary, in tokens; summarizers are asked to stay within it, and nothing is
   * planned when the summarized part is not larger. Default: 10 % of the trigger, at most 8 192.
   */
  maxSummaryTokens?: number
  /** Each tool output is cut to this many characters in the transcript given to the summarizer. Default 2 000. */
  maxToolOutputChars?: number
  /**
   * Counts the tokens of a text: plug a real tokenizer here (e.g. `countTokens` from
   * 'gpt-tokenizer/encoding/o200k_base', or `(t) => enc.encode(t).length` with js-tiktoken). A
   * message then costs its content, tool call names and arguments, plus 4. Also used for
   * transcripts and summaries. Default `estimateTextTokens`, calibrated against o200k (P13).
   * Exclusive with `estimateTokens`.
   */
  countTokens?: TextTokenCounter
  /**
   * Estimates one whole message, replacing the per-text count. Default: built on `countTokens`.
   * Exclusive with `countTokens`. Counts are cached per message object either way.
   */
  estimateTokens?: TokenEstimator
  /**
   * Context window of the summarizer's model, in tokens: every summarize request (transcript,
   * previous summary, instructions and the summary's own budget) fits in it, a larger transcript
   * being summarized in chunks (P14). Default: `contextWindow`.
   */
  summarizerWindow?: number
}

/** A policy with every default applied and every rule checked. */
export interface ResolvedCompactionPolicy {
  readonly contextWindow: number
  readonly triggerTokens: number
  /** A compaction result must end below this: `0.8 × triggerTokens`. */
  readonly targetTokens: number
  readonly keepRecentMessages: number | undefined
  readonly keepRecentTokens: number | undefined
  readonly maxSummaryTokens: number
  readonly maxToolOutputChars: number
  /** The message estimator, cached per message. */
  readonly estimateTokens: TokenEstimator
  /** The text counter (transcripts, summaries). */
  readonly countTokens: TextTokenCounter
  readonly summarizerWindow: number
}

const resolved = new WeakSet<object>()

/** The same policy counting with `estimate` instead (a session's calibrated counts). */
export function withEstimator(
  policy: ResolvedCompactionPolicy,
  estimate: TokenEstimator,
): ResolvedCompactionPolicy {
  const out = Object.freeze({ ...policy, estimateTokens: estimate })
  resolved.add(out)
  return out
}

/** Applies defaults and validates. Invalid values throw RangeError/TypeError naming the option. */
export function resolvePolicy(
  policy: CompactionPolicy | ResolvedCompactionPolicy | undefined,
  owner = 'compactionPolicy',
): ResolvedCompactionPolicy {
  if (policy !== undefined && resolved.has(policy)) return policy as ResolvedCompactionPolicy
  const o = requireOptions<CompactionPolicy>(owner, policy, true)
  const whole = { integer: true, min: 1 }
  const contextWindow = optionalNumber(owner, 'contextWindow', o.contextWindow, DEFAULT_CONTEXT_WINDOW, whole)
  if (o.triggerTokens !== undefined && o.triggerFraction !== undefined) {
    invalidOption(owner, 'triggerFraction', 'unset when triggerTokens is set', o.triggerFraction)
  }
  const fraction = optionalNumber(owner, 'triggerFraction', o.triggerFraction, DEFAULT_TRIGGER_FRACTION, {
    above: 0,
    max: 1,
  })
  const triggerTokens =
    optionalNumber(owner, 'triggerTokens', o.triggerTokens, undefined, { ...whole, max: contextWindow }) ??
    Math.floor(contextWindow * fraction)
  if (o.keepRecentMessages !== undefined && o.keepRecentTokens !== undefined) {
    invalidOption(owner, 'keepRecentTokens', 'unset when keepRecentMessages is set', o.keepRecentTokens)
  }
  const keepRecentMessages = optionalNumber(owner, 'keepRecentMessages', o.keepRecentMessages, undefined, {
    integer: true,
    min: 0,
  })
  const keepRecentTokens =
    keepRecentMessages !== undefined
      ? undefined
      : optionalNumber(
          owner,
          'keepRecentTokens',
          o.keepRecentTokens,
          Math.floor(triggerTokens * DEFAULT_KEEP_RECENT_FRACTION),
          { integer: true, min: 0 },
        )
  const maxSummaryTokens = optionalNumber(
    owner,
    'maxSummaryTokens',
    o.maxSummaryTokens,
    Math.max(1, Math.min(MAX_DEFAULT_SUMMARY_TOKENS, Math.floor(triggerTokens * 0.1))),
    whole,
  )
  const targetTokens = triggerTokens * COMPACTION_TARGET_RATIO
  // A policy whose kept tail plus summary cannot fit below the target would be refused every time.
  if (keepRecentTokens !== undefined && keepRecentTokens + maxSummaryTokens >= targetTokens) {
    invalidOption(
      owner,
      'keepRecentTokens',
      `such that keepRecentTokens + maxSummaryTokens < 0.8 × triggerTokens (${targetTokens})`,
      keepRecentTokens,
    )
  }
  if (o.countTokens !== undefined && o.estimateTokens !== undefined) {
    invalidOption(owner, 'estimateTokens', 'unset when countTokens is set', o.estimateTokens)
  }
  const countTokens = optionalFunction<TextTokenCounter>(owner, 'countTokens', o.countTokens)
  const perMessage = optionalFunction<TokenEstimator>(owner, 'estimateTokens', o.estimateTokens)
  const estimate = perMessage ?? (countTokens !== undefined ? messageEstimator(countTokens) : estimateTokens)
  const countText: TextTokenCounter =
    countTokens ??
    (perMessage !== undefined
      ? (text) => perMessage({ id: '', role: 'user', content: text })
      : estimateTextTokens)
  const out: ResolvedCompactionPolicy = Object.freeze({
    contextWindow,
    triggerTokens,
    targetTokens,
    keepRecentMessages,
    keepRecentTokens,
    maxSummaryTokens,
    maxToolOutputChars: optionalNumber(
      owner,
      'maxToolOutputChars',
      o.maxToolOutputChars,
      DEFAULT_MAX_TOOL_OUTPUT_CHARS,
      whole,
    ),
    estimateTokens: cachedEstimator(estimate),
    countTokens: countText,
    summarizerWindow: optionalNumber(owner, 'summarizerWindow', o.summarizerWindow, contextWindow, whole),
  })
  resolved.add(out)
  return out
}
