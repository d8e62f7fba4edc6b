import { estimateTextTokens } from '../pipeline/tokens.js'

/**
 * Output tokens assumed for a generation request that names no `max_tokens` /
 * `max_completion_tokens` / `max_output_tokens`.
 */
export const DEFAULT_OUTPUT_TOKENS = 1_024

/** Request fields that carry the prompt (everything the provider counts as input). */
const PROMPT_FIELDS = ['system', 'instructions', 'messages', 'input', 'prompt', 'tools', 'tool_choice']
const OUTPUT_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens']
/** Operations that write no output tokens. */
const INPUT_ONLY = new Set(['embeddings', 'count_tokens'])

/**
 * The tokens a request is expected to use, for a call's `cost` when the caller gives none: its
 * input estimated from the prompt's JSON (the calibrated estimate compaction uses), plus the output it allows
 * (`max_tokens`, `max_completion_tokens` or `max_output_tokens`, else `DEFAULT_OUTPUT_TOKENS`).
 * Returns undefined for a request without a JSON body (a GET, an upload): such calls weigh 1.
 */
export function estimateRequestCost(body: unknown, operation: string): number | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const b = body as Record<string, unknown>
  let input = 0
  for (const field of PROMPT_FIELDS) {
    const value = b[field]
    if (value !== undefined)
      input += estimateTextTokens(typeof value === 'string' ? value : JSON.stringify(value))
  }
  if (INPUT_ONLY.has(operation)) return Math.max(1, input)
  let output: number | undefined
  for (const field of OUTPUT_FIELDS) {
    const value = b[field]
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) output = value
  }
  return Math.max(1, input + (output ?? DEFAULT_OUTPUT_TOKENS))
}
