import type Anthropic from '@anthropic-ai/sdk'
import type OpenAI from 'openai'
import {
  breakwaterOptions,
  type CallContext,
  type ChatPrompt,
  type Message,
  type Priority,
} from '../index.js'
import { ANTHROPIC_MODEL, OPENAI_MODEL } from './scenario.js'

/** What an agent needs from a model: its conversation in, the answer's text out. */
export interface ChatModel {
  readonly provider: 'openai' | 'anthropic'
  complete(messages: readonly Message[], call: { priority: Priority; signal: AbortSignal }): Promise<string>
}

const READ_FILE = {
  name: 'read_file',
  description: 'Read a file of the repository',
  parameters: { type: 'object' as const, properties: { path: { type: 'string' } }, required: ['path'] },
}

/** Chat Completions through a client wrapped with `wrapOpenAI` (the guard sits inside the SDK call). */
export function openaiModel(client: OpenAI): ChatModel {
  return {
    provider: 'openai',
    async complete(messages, { priority, signal }) {
      const res = await client.chat.completions.create(
        {
          model: OPENAI_MODEL,
          messages: messages.map(toOpenAI),
          tools: [{ type: 'function', function: READ_FILE }],
          max_tokens: 256,
        },
        breakwaterOptions({ priority }, { signal }),
      )
      return res.choices[0]?.message.content ?? ''
    },
  }
}

/** The Messages API through a client wrapped with `wrapAnthropic`. */
export function anthropicModel(client: Anthropic): ChatModel {
  return {
    provider: 'anthropic',
    async complete(messages, { priority, signal }) {
      const system = messages.filter((m) => m.role === 'system').map((m) => m.content)
      const res = await client.messages.create(
        {
          model: ANTHROPIC_MODEL,
          max_tokens: 256,
          ...(system.length > 0 && { system: system.join('\n\n') }),
          messages: toAnthropic(messages.filter((m) => m.role !== 'system')),
          tools: [
            { name: READ_FILE.name, description: READ_FILE.description, input_schema: READ_FILE.parameters },
          ],
        },
        breakwaterOptions({ priority }, { signal }),
      )
      return res.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    },
  }
}

/**
 * The compaction summarizer's model call. It runs inside the worker's guard (the worker hands its
 * call context in), so it uses the plain client: wrapping it too would guard the call twice.
 */
export function summaryCompletion(plain: OpenAI): (prompt: ChatPrompt, ctx: CallContext) => Promise<string> {
  return async (prompt, ctx) => {
    const res = await plain.chat.completions.create(
      {
        model: OPENAI_MODEL,
        max_tokens: prompt.maxTokens,
        messages: [{ role: 'system', content: prompt.system }, ...prompt.messages],
      },
      { signal: ctx.signal, maxRetries: 0 },
    )
    return res.choices[0]?.message.content ?? ''
  }
}

function toOpenAI(m: Message): OpenAI.Chat.ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content }
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId ?? '', content: m.content }
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content || null,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: 'assistant', content: m.content }
  }
}

type Block = Anthropic.ContentBlockParam

/** Anthropic alternates user and assistant turns: tool results are user content, runs are merged. */
function toAnthropic(messages: readonly Message[]): Anthropic.MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: Block[] }[] = []
  for (const m of messages) {
    const role = m.role === 'assistant' ? 'assistant' : 'user'
    const blocks: Block[] = []
    if (m.role === 'tool') {
      blocks.push({ type: 'tool_result', tool_use_id: m.toolCallId ?? '', content: m.content })
    } else if (m.content !== '') blocks.push({ type: 'text', text: m.content })
    for (const c of m.toolCalls ?? []) {
      blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown })
    }
    const last = out.at(-1)
    if (last?.role === role) last.content.push(...blocks)
    else out.push({ role, content: blocks })
  }
  return out
}
