import { raceAbort } from '../core/abort.js'
import type { Guard } from '../core/guard.js'
import { isWellFormedSummary } from './apply-compaction.js'
import { CompactionRefusedError } from './compaction-errors.js'
import type { ResolvedCompactionPolicy } from './compaction-policy.js'
import { pipeline, type Pipeline } from './pipeline.js'
import type { CompactionPlan } from './plan-compaction.js'
import { summaryMessage } from './summary-block.js'
import type { SummarizeInput, Summarizer } from './summarizer.js'

/** A verified result, waiting for the next turn boundary. */
export interface CompactionResult {
  readonly plan: CompactionPlan
  readonly summary: string
  readonly tokensAfter: number
  readonly summarizer: 'primary' | 'fallback'
  readonly primaryError?: unknown
}

export interface RunDeps {
  readonly summarizer: Summarizer
  readonly fallback: Summarizer | undefined
  readonly guard: Guard | undefined
  readonly service: string | undefined
  readonly policy: ResolvedCompactionPolicy
}

type Summarized = Omit<CompactionResult, 'tokensAfter'>

/**
 * plan → summarize → verify. The summarize stage calls the summarizer through the guard as
 * 'background' (handing it the guard's context, so an LLM summarizer does not guard again) and, when
 * that fails for any reason but the run's own abort, asks the fallback — never through the guard,
 * whose breaker may be what failed. Verify refuses a result that would not end below the target.
 */
export function compactionPipeline(d: RunDeps): Pipeline<CompactionPlan, CompactionResult> {
  return pipeline<CompactionPlan>()
    .stage('summarize', async (plan, ctx): Promise<Summarized> => {
      const input: SummarizeInput = {
        transcript: plan.transcript,
        signal: ctx.signal,
        maxTokens: d.policy.maxSummaryTokens,
        messages: plan.summarized,
        ...(plan.previousSummary !== undefined ? { previousSummary: plan.previousSummary } : {}),
      }
      try {
        const summary = await (d.guard
          ? d.guard.execute((g) => d.summarizer.summarize({ ...input, signal: g.signal, ctx: g }), {
              signal: ctx.signal,
              priority: 'background',
              service: d.service,
            })
          : raceAbort(d.summarizer.summarize(input), ctx.signal))
        return { plan, summary: wellFormed(summary), summarizer: 'primary' }
      } catch (primaryError) {
        if (ctx.signal.aborted || d.fallback === undefined) throw primaryError
        const summary = await raceAbort(d.fallback.summarize(input), ctx.signal)
        return { plan, summary: wellFormed(summary), summarizer: 'fallback', primaryError }
      }
    })
    .stage('verify', (r): CompactionResult => {
      const { plan } = r
      const estimate = d.policy.estimateTokens(summaryMessage('summary', r.summary))
      const tokensAfter = plan.tokensBefore - plan.tokensSummarized + estimate
      if (tokensAfter >= d.policy.targetTokens) {
        throw new CompactionRefusedError(
          'not_below_target',
          `the result would leave ${tokensAfter} tokens, not below ${d.policy.targetTokens} (0.8 × trigger)`,
          tokensAfter,
        )
      }
      return { ...r, tokensAfter }
    })
}

function wellFormed(summary: unknown): string {
  if (isWellFormedSummary(summary)) return summary
  throw new CompactionRefusedError(
    'malformed_summary',
    `the summarizer returned ${typeof summary === 'string' ? 'an empty string' : String(typeof summary)}`,
  )
}
