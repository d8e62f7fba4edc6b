import { type Dialect, json, messagesText, type Reply, type SseEvent } from './dialect.js'

const errorEnvelope = (type: string, message: string, code?: string): unknown => ({
  error: { message, type, param: null, code: code ?? type },
})

/** POST /v1/chat/completions, as the `openai` SDK parses it. */
export const openaiChat: Dialect = {
  api: 'openai-chat',
  provider: 'openai',
  requestIdHeader: 'x-request-id',
  defaultStreamErrorType: 'server_error',
  inputText: (body) => messagesText(body.messages),
  json: (r) => ({
    id: r.id,
    object: 'chat.completion',
    created: r.created,
    model: r.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: r.text, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: chatUsage(r),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  }),
  stream(r) {
    const chunk = (delta: unknown, finish: string | null): SseEvent =>
      json(undefined, {
        id: r.id,
        object: 'chat.completion.chunk',
        created: r.created,
        model: r.model,
        service_tier: 'default',
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        ...(r.includeUsage && { usage: null }),
      })
    const epilogue = [chunk({}, 'stop')]
    if (r.includeUsage) {
      epilogue.push(
        json(undefined, {
          id: r.id,
          object: 'chat.completion.chunk',
          created: r.created,
          model: r.model,
          service_tier: 'default',
          system_fingerprint: SYSTEM_FINGERPRINT,
          choices: [],
          usage: chatUsage(r),
        }),
      )
    }
    epilogue.push({ data: '[DONE]' })
    return {
      prelude: [chunk({ role: 'assistant', content: '', refusal: null }, null)],
      content: r.pieces.map((text) => chunk({ content: text }, null)),
      epilogue,
    }
  },
  errorBody: errorEnvelope,
  // The SDK turns a chunk carrying `error` into an APIError without a status.
  streamError: (type, message) => json(undefined, errorEnvelope(type, message)),
}

const SYSTEM_FINGERPRINT = 'fp_fake'

function chatUsage(r: Reply): unknown {
  return {
    prompt_tokens: r.inputTokens,
    completion_tokens: r.outputTokens,
    total_tokens: r.inputTokens + r.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

/** POST /v1/responses, as the `openai` SDK parses it (`output_text` is derived by the SDK). */
export const openaiResponses: Dialect = {
  api: 'openai-responses',
  provider: 'openai',
  requestIdHeader: 'x-request-id',
  defaultStreamErrorType: 'server_error',
  inputText(body) {
    const extra = typeof body.instructions === 'string' ? body.instructions : ''
    if (typeof body.input === 'string') return { last: body.input, all: extra + body.input }
    return messagesText(body.input, extra)
  },
  json: (r) => response(r, 'completed', [outputMessage(r, 'completed')]),
  stream(r) {
    let seq = 0
    const event = (type: string, fields: Record<string, unknown>): SseEvent =>
      json(type, { type, sequence_number: seq++, ...fields })
    const itemId = `msg_${r.id}`
    const part = { type: 'output_text', text: '', annotations: [] }
    const at = { item_id: itemId, output_index: 0, content_index: 0 }
    const prelude = [
      event('response.created', { response: response(r, 'in_progress', []) }),
      event('response.in_progress', { response: response(r, 'in_progress', []) }),
      event('response.output_item.added', {
        output_index: 0,
        item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      }),
      event('response.content_part.added', { ...at, part }),
    ]
    const content = r.pieces.map((delta) =>
      event('response.output_text.delta', { ...at, delta, logprobs: [] }),
    )
    const epilogue = [
      event('response.output_text.done', { ...at, text: r.text, logprobs: [] }),
      event('response.content_part.done', { ...at, part: { ...part, text: r.text } }),
      event('response.output_item.done', { output_index: 0, item: outputMessage(r, 'completed') }),
      event('response.completed', { response: response(r, 'completed', [outputMessage(r, 'completed')]) }),
    ]
    return { prelude, content, epilogue }
  },
  errorBody: errorEnvelope,
  // The Responses API streams `event: error` with the code at the top level and, like every event
  // of the stream, its sequence number.
  streamError: (type, message, sent) =>
    json('error', { type: 'error', sequence_number: sent, code: type, message, param: null }),
}

function outputMessage(r: Reply, status: string): unknown {
  return {
    id: `msg_${r.id}`,
    type: 'message',
    status,
    role: 'assistant',
    content: [{ type: 'output_text', text: r.text, annotations: [] }],
  }
}

function response(r: Reply, status: string, output: unknown[]): unknown {
  const done = status === 'completed'
  return {
    id: r.id,
    object: 'response',
    created_at: r.created,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: r.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    user: null,
    metadata: {},
    usage: done
      ? {
          input_tokens: r.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: r.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: r.inputTokens + r.outputTokens,
        }
      : null,
  }
}
