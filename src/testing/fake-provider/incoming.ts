import type { IncomingMessage } from 'node:http'
import { estimateTextTokens } from '../../pipeline/tokens.js'
import type { Dialect, Reply } from './dialect.js'

const MAX_BODY_BYTES = 8 * 1024 * 1024

/** What a custom reply function sees. */
export interface ReplyRequest {
  api: Dialect['api']
  model: string
  /** Text of the last user message. */
  lastUserMessage: string
  body: Record<string, unknown>
}

/** The request's JSON body, or {} when it is empty or not a JSON object (it is answered 400 then). */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) req.destroy(new Error('fake provider: request body too large'))
      else chunks.push(chunk)
    })
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })
  try {
    const parsed: unknown = raw === '' ? {} : JSON.parse(raw)
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** Bearer token (OpenAI, Anthropic auth tokens) or x-api-key (Anthropic API keys). */
export function apiKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key']
  if (typeof header === 'string') return header
  const auth = req.headers.authorization
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
}

const ID_PREFIX: Record<Dialect['api'], string> = {
  'openai-chat': 'chatcmpl-fake-',
  'openai-responses': 'resp_fake_',
  'anthropic-messages': 'msg_fake_',
}

/** The deterministic answer: the reply text, split into chunks, with usage numbers. */
export function buildReply(
  dialect: Dialect,
  body: Record<string, unknown>,
  o: { model: string; stream: boolean; seq: number; now: number; reply: (r: ReplyRequest) => string },
): Reply {
  const input = dialect.inputText(body)
  const text = o.reply({ api: dialect.api, model: o.model, lastUserMessage: input.last, body })
  const options = body.stream_options as { include_usage?: unknown } | undefined
  return {
    id: `${ID_PREFIX[dialect.api]}${o.seq}`,
    model: o.model,
    text,
    pieces: text.match(/\S+\s*/g) ?? [],
    inputTokens: tokens(input.all),
    outputTokens: tokens(text),
    created: Math.floor(o.now / 1000),
    includeUsage: o.stream && options?.include_usage === true,
  }
}

/**
 * The fake's token count, at least 1: deterministic usage numbers. It is the calibrated
 * `estimateTextTokens` (about 1.0–1.2 × o200k on code, prose, JSON, logs and CJK), so usage,
 * `countTokens` and the token budgets treat Chinese or JSON-heavy traffic the way a real provider
 * does; a count by characters would under-report CJK about fourfold.
 */
export function tokens(text: string): number {
  return Math.max(1, estimateTextTokens(text))
}
