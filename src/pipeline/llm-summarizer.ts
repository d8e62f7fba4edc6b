import type { CallContext } from '../core/call-options.js'
import type { Guard } from '../core/guard.js'
import { optionalFunction, optionalNumber, optionalString, requireOptions } from '../core/validate.js'
import { plainContext } from './plain-context.js'
import { checkpointPrompt, updatePrompt, type ChatPrompt } from './summary-prompts.js'
import type { SummarizeInput, Summarizer } from './summarizer.js'

export interface LlmSummarizerOptions {
  /**
   * Sends the prompt to a model and resolves with the text of its answer. Pass `ctx.signal` to the
   * SDK so timeouts and disposal abort the request. Required.
   */
  complete: (prompt: ChatPrompt, ctx: CallContext) => Promise<string>
  /**
   * Guard for calls made outside a compaction worker (run as priority 'background'). Inside a worker
   * the worker's guard is used instead and this one is skipped: a call is never guarded twice.
   * Default: none.
   */
  guard?: Guard
  /** Service named in the guarded call (breaker state is per service). Default: the guard's own. */
  service?: string
  /** Output budget when the input gives none, in tokens. Default 2 048. */
  maxTokens?: number
}

const OWNER = 'llmSummarizer'

/**
 * A summarizer that asks a model for a structured checkpoint (goal, constraints, progress,
 * decisions, files read and modified, next steps, critical context), or, given a previous summary,
 * for an update of it. It returns the model's text as is; the worker refuses empty results.
 */
export function llmSummarizer(options: LlmSummarizerOptions): Summarizer {
  const o = requireOptions<LlmSummarizerOptions>(OWNER, options)
  const complete = optionalFunction<LlmSummarizerOptions['complete']>(OWNER, 'complete', o.complete)
  if (complete === undefined) {
    throw new TypeError(`${OWNER}: option "complete" must be a function, got undefined`)
  }
  if (o.guard !== undefined && typeof o.guard?.execute !== 'function') {
    throw new TypeError(`${OWNER}: option "guard" must be a Guard, got ${String(o.guard)}`)
  }
  const guard = o.guard
  const service = optionalString(OWNER, 'service', o.service)
  const defaultMax = optionalNumber(OWNER, 'maxTokens', o.maxTokens, 2_048, { integer: true, min: 1 })
  return {
    name: 'llm',
    summarize(input: SummarizeInput): Promise<string> {
      const maxTokens = input.maxTokens ?? defaultMax
      const previous = input.previousSummary?.trim()
      const prompt = previous
        ? updatePrompt(previous, input.transcript, maxTokens)
        : checkpointPrompt(input.transcript, maxTokens)
      if (input.ctx !== undefined) return complete(prompt, input.ctx)
      const call = { signal: input.signal, priority: 'background' as const, service }
      if (guard !== undefined) return guard.execute((ctx) => complete(prompt, ctx), call)
      return complete(prompt, plainContext(call, input.signal))
    },
  }
}
