import { contentText, type Dialect, json, messagesText, type Reply } from './dialect.js'

/** POST /v1/messages, as `@anthropic-ai/sdk` parses it (including its MessageStream helper). */
export const anthropicMessages: Dialect = {
  api: 'anthropic-messages',
  provider: 'anthropic',
  requestIdHeader: 'request-id',
  defaultStreamErrorType: 'overloaded_error',
  inputText: (body) => messagesText(body.messages, contentText(body.system)),
  json: (r) => ({
    id: r.id,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: [{ type: 'text', text: r.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: usage(r, r.outputTokens),
  }),
  stream: (r) => ({
    prelude: [
      json('message_start', {
        type: 'message_start',
        message: {
          id: r.id,
          type: 'message',
          role: 'assistant',
          model: r.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usage(r, 1),
        },
      }),
      json('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
      json('ping', { type: 'ping' }),
    ],
    content: r.pieces.map((text) =>
      json('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      }),
    ),
    epilogue: [
      json('content_block_stop', { type: 'content_block_stop', index: 0 }),
      json('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        // The final usage: input and cache counts are repeated, output tokens are the total.
        usage: {
          input_tokens: r.inputTokens,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: r.outputTokens,
        },
      }),
      json('message_stop', { type: 'message_stop' }),
    ],
  }),
  errorBody: (type, message, _code, requestId) => errorEnvelope(type, message, requestId),
  streamError: (type, message, _sent, requestId) => json('error', errorEnvelope(type, message, requestId)),
}

/** Anthropic's error envelope; the API repeats the request id in it. */
export function errorEnvelope(type: string, message: string, requestId: string | undefined): unknown {
  return requestId === undefined
    ? { type: 'error', error: { type, message } }
    : { type: 'error', error: { type, message }, request_id: requestId }
}

function usage(r: Reply, outputTokens: number): unknown {
  return {
    input_tokens: r.inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    service_tier: 'standard',
  }
}
