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
        usage: { output_tokens: r.outputTokens },
      }),
      json('message_stop', { type: 'message_stop' }),
    ],
  }),
  errorBody: (type, message) => ({ type: 'error', error: { type, message } }),
  streamError: (type, message) => json('error', { type: 'error', error: { type, message } }),
}

function usage(r: Reply, outputTokens: number): unknown {
  return {
    input_tokens: r.inputTokens,
    output_tokens: outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  }
}
