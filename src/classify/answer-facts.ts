/** Tokens a provider reports having used for one answer. */
export interface TokenUsage {
  inputTokens?: number
  outputTokens?: number
  /** When given, used as is; otherwise input + output. */
  totalTokens?: number
}

/** What an answer says about itself: the model that wrote it and the tokens it used. */
export interface AnswerFacts {
  model?: string
  usage?: TokenUsage
}

type Shape = Record<string, unknown>

const shape = (value: unknown): Shape | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Shape) : undefined
const count = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined

/**
 * Usage in any of the providers' shapes: OpenAI Chat Completions and embeddings
 * (`prompt_tokens` / `completion_tokens`), the Responses API (`input_tokens` / `output_tokens`),
 * Anthropic (`input_tokens` plus cache reads and writes, `output_tokens`).
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  const u = shape(value)
  if (u === undefined) return undefined
  const out: TokenUsage = {}
  const prompt = count(u.prompt_tokens)
  const completion = count(u.completion_tokens)
  const input = count(u.input_tokens)
  const output = count(u.output_tokens)
  if (prompt !== undefined) out.inputTokens = prompt
  if (input !== undefined) {
    // Anthropic counts cache reads and writes apart from input_tokens; all are input.
    out.inputTokens =
      input + (count(u.cache_creation_input_tokens) ?? 0) + (count(u.cache_read_input_tokens) ?? 0)
  }
  if (completion !== undefined) out.outputTokens = completion
  if (output !== undefined) out.outputTokens = output
  return out.inputTokens === undefined && out.outputTokens === undefined ? undefined : out
}

/** Facts of a non-streamed answer body (parsed JSON). */
export function answerFacts(body: unknown): AnswerFacts {
  const b = shape(body)
  const out: AnswerFacts = {}
  if (typeof b?.model === 'string') out.model = b.model
  const usage = usageOf(b?.usage)
  if (usage !== undefined) out.usage = usage
  return out
}

/**
 * Folds one stream event (parsed JSON data) into what is known so far: the chat usage chunk,
 * the Responses API's `response.*` events, Anthropic's `message_start` (input) and `message_delta`
 * (the final output count). Later counts replace earlier ones.
 */
export function foldStreamFacts(facts: AnswerFacts, data: unknown): void {
  const d = shape(data)
  if (d === undefined) return
  const holder = shape(d.response) ?? shape(d.message) ?? d
  if (typeof holder.model === 'string') facts.model ??= holder.model
  const usage = usageOf(holder.usage) ?? usageOf(d.usage)
  if (usage !== undefined) facts.usage = { ...facts.usage, ...usage }
}
