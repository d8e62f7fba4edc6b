import { tokens } from './incoming.js'

/** Length of every fake embedding vector (unless the request asks for fewer `dimensions`). */
const DIMENSIONS = 8

/**
 * POST /v1/embeddings, as the `openai` SDK sends it: the SDK asks for `encoding_format: 'base64'`
 * by default and decodes the float32 vector itself, so both encodings are answered.
 */
export function embeddingsAnswer(body: Record<string, unknown>): unknown {
  const inputs = inputsOf(body)
  const size =
    typeof body.dimensions === 'number' && body.dimensions >= 1 ? Math.floor(body.dimensions) : DIMENSIONS
  const base64 = body.encoding_format === 'base64'
  let promptTokens = 0
  const data = inputs.map((input, index) => {
    const text = inputText(input)
    promptTokens += tokens(text)
    const vector = embed(text, size)
    return {
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    }
  })
  return {
    object: 'list',
    data,
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  }
}

/** A deterministic unit vector from the text's characters. */
function embed(text: string, size: number): number[] {
  const v = new Array<number>(size).fill(0)
  for (let i = 0; i < text.length; i++) v[i % size]! += text.charCodeAt(i)
  const norm = Math.hypot(...v) || 1
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6)
}

const inputsOf = (body: Record<string, unknown>): unknown[] =>
  Array.isArray(body.input) ? body.input : [body.input]
const inputText = (input: unknown): string => (typeof input === 'string' ? input : JSON.stringify(input))

/** The prompt tokens an embeddings request's usage will report. */
export function embeddingTokens(body: Record<string, unknown>): number {
  let n = 0
  for (const input of inputsOf(body)) n += tokens(inputText(input))
  return n
}
