import { linkedController, raceAbort } from '../core/abort.js'
import type { CallContext } from '../core/call-options.js'
import { setTimer, type Clock } from '../core/clock.js'
import { TimeoutError } from '../core/errors/timeout-error.js'
import type { Guard } from '../core/guard.js'
import { isWellFormedSummary } from './apply-compaction.js'
import { CompactionRefusedError } from './compaction-errors.js'
import type { ResolvedCompactionPolicy } from './compaction-policy.js'
import { pipeline, type Pipeline } from './pipeline.js'
import type { CompactionPlan } from './plan-compaction.js'
import { fitText, summarizeChunks, summarizeInputBudget } from './summarize-chunks.js'
import { summaryMessage } from './summary-block.js'
import type { SummarizeInput, Summarizer } from './summarizer.js'

/** A verified result, waiting for the next turn boundary. */
export interface CompactionResult {
  readonly plan: CompactionPlan
  readonly summary: string
  readonly tokensAfter: number
  readonly summarizer: 'primary' | 'fallback'
  readonly primaryError?: unknown
  /** Summarize requests the primary summarizer was sent (more than one for a chunked plan, P14). */
  readonly primaryCalls: number
}

/** One run's instructions. */
export interface RunInput {
  readonly plan: CompactionPlan
  /**
   * 'target': the result must end below the policy's target (background and manual runs, P7);
   * 'shrink': it must only be smaller than before (a foreground run that makes a request fit).
   */
  readonly accept: 'target' | 'shrink'
  /** The fallback writes the summary without asking the primary (a plan that cannot reach the target: no paid call, P14). */
  readonly fallbackOnly?: boolean
  /** The primary's time, in ms, before the fallback writes the summary instead (foreground runs). */
  readonly primaryTimeoutMs?: number
  /** The session's calibrated policy the plan was made with. Default: the worker's. */
  readonly policy?: ResolvedCompactionPolicy
}

export interface RunDeps {
  readonly summarizer: Summarizer
  readonly fallback: Summarizer | undefined
  readonly guard: Guard | undefined
  readonly service: string | undefined
  readonly policy: ResolvedCompactionPolicy
  readonly clock: Clock
}

type Summarized = Omit<CompactionResult, 'tokensAfter'> & {
  readonly accept: RunInput['accept']
  readonly policy: ResolvedCompactionPolicy
}

/**
 * plan → summarize → verify. The summarize stage calls the summarizer through the guard at the
 * run's priority (handing it the guard's context, so an LLM summarizer does not guard again), one
 * request per chunk of a transcript too large for the summarizer's window (P14), and, when that
 * fails for any reason but the run's own abort, asks the fallback — never through the guard, whose
 * breaker may be what failed. Verify refuses a result that would not end below the target.
 */
export function compactionPipeline(d: RunDeps): Pipeline<RunInput, CompactionResult> {
  return pipeline<RunInput>()
    .stage('summarize', async (input, ctx): Promise<Summarized> => {
      const { plan, accept } = input
      const policy = input.policy ?? d.policy
      const base = { plan, accept, policy }
      if (input.fallbackOnly !== true) {
        const calls = { n: 0 }
        try {
          const summary = await primary(d, policy, input, ctx, calls)
          return { ...base, summary, summarizer: 'primary', primaryCalls: calls.n }
        } catch (primaryError) {
          if (ctx.signal.aborted || d.fallback === undefined) throw primaryError
          const summary = await fallback(d, policy, plan, ctx.signal)
          return { ...base, summary, summarizer: 'fallback', primaryError, primaryCalls: calls.n }
        }
      }
      if (d.fallback === undefined) throw new TypeError('compaction: a fallback-only run needs a fallback')
      const summary = await fallback(d, policy, plan, ctx.signal)
      return { ...base, summary, summarizer: 'fallback', primaryCalls: 0 }
    })
    .stage('verify', ({ accept, policy, ...r }): CompactionResult => {
      const { plan } = r
      const tokensAfter = plan.tokensKept + policy.estimateTokens(summaryMessage('summary', r.summary))
      const limit = accept === 'shrink' ? plan.tokensBefore : policy.targetTokens
      if (tokensAfter >= limit) {
        throw new CompactionRefusedError(
          'not_below_target',
          accept === 'shrink'
            ? `the result would leave ${tokensAfter} tokens, not below the ${plan.tokensBefore} before`
            : `the result would leave ${tokensAfter} tokens, not below ${policy.targetTokens} (0.8 × trigger)`,
          tokensAfter,
        )
      }
      return { ...r, tokensAfter }
    })
}

/**
 * The primary summarizer, chunk after chunk (each summary so far is the next chunk's previous
 * summary), bounded by `primaryTimeoutMs` when given. Counts the requests in `calls`.
 */
async function primary(
  d: RunDeps,
  p: ResolvedCompactionPolicy,
  input: RunInput,
  ctx: CallContext,
  calls: { n: number },
): Promise<string> {
  const { plan } = input
  const { controller, unlink } = linkedController(ctx.signal)
  const ms = input.primaryTimeoutMs
  const cancel =
    ms === undefined ? () => {} : setTimer(d.clock, ms, () => controller.abort(new TimeoutError('total', ms)))
  try {
    const budget = summarizeInputBudget(p)
    let previous = plan.previousSummary
    const planned = summarizeChunks(
      plan.summarized,
      previous ? p.countTokens(previous) : 0,
      p,
      controller.signal,
    )
    const chunks = Array.isArray(planned) ? planned : await planned
    for (const chunk of chunks) {
      const chunkTokens = chunk.tokens
      // A previous summary longer than asked for is cut so the request still fits (P14).
      if (previous !== undefined && p.countTokens(previous) + chunkTokens > budget) {
        previous = fitText(previous, Math.max(1, budget - chunkTokens), p)
      }
      const one: SummarizeInput = {
        transcript: chunks.length === 1 ? plan.transcript : chunk.transcript,
        signal: controller.signal,
        maxTokens: p.maxSummaryTokens,
        messages: chunk.messages,
        ...(previous !== undefined ? { previousSummary: previous } : {}),
      }
      calls.n++
      previous = wellFormed(await summarizeOnce(d, one, controller.signal, ctx))
    }
    if (previous === undefined)
      throw new CompactionRefusedError('malformed_summary', 'nothing was summarized')
    return previous
  } finally {
    cancel()
    unlink()
  }
}

function summarizeOnce(
  d: RunDeps,
  input: SummarizeInput,
  signal: AbortSignal,
  ctx: CallContext,
): Promise<string> {
  if (d.guard === undefined) return raceAbort(d.summarizer.summarize(input), signal)
  return d.guard.execute((g) => d.summarizer.summarize({ ...input, signal: g.signal, ctx: g }), {
    signal,
    priority: ctx.priority,
    service: d.service,
  })
}

async function fallback(
  d: RunDeps,
  p: ResolvedCompactionPolicy,
  plan: CompactionPlan,
  signal: AbortSignal,
): Promise<string> {
  const input: SummarizeInput = {
    transcript: plan.transcript,
    signal,
    maxTokens: p.maxSummaryTokens,
    messages: plan.summarized,
    ...(plan.previousSummary !== undefined ? { previousSummary: plan.previousSummary } : {}),
  }
  return wellFormed(await raceAbort(d.fallback!.summarize(input), signal))
}

function wellFormed(summary: unknown): string {
  if (isWellFormedSummary(summary)) return summary
  throw new CompactionRefusedError(
    'malformed_summary',
    `the summarizer returned ${typeof summary === 'string' ? 'an empty string' : String(typeof summary)}`,
  )
}
