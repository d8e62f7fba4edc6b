import { invalidOption, optionalFunction, optionalNumber, requireOptions } from '../core/validate.js'
import { estimateTokens, type TokenEstimator } from './tokens.js'

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
  /** Token estimator. Default `estimateTokens` (chars / 4 + 4 per message). */
  estimateTokens?: TokenEstimator
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
  readonly estimateTokens: TokenEstimator
}

const resolved = new WeakSet<object>()

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
    estimateTokens:
      optionalFunction<TokenEstimator>(owner, 'estimateTokens', o.estimateTokens) ?? estimateTokens,
  })
  resolved.add(out)
  return out
}
