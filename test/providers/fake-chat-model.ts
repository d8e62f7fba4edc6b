import type { LanguageModelV4, LanguageModelV4StreamPart } from '@ai-sdk/provider'
import { APICallError } from 'ai'

/**
 * A hand-written AI SDK language model that talks to the fake provider's Chat Completions endpoint
 * over HTTP with fetch (no AI SDK provider package is installed). Like `@ai-sdk/openai`, it throws
 * `APICallError` for HTTP errors and reports errors inside a stream as `{ type: 'error' }` parts.
 */
export function fakeChatModel(baseURL: string, modelId: string, apiKey = 'sk-ai'): LanguageModelV4 {
  const url = `${baseURL}/chat/completions`
  const post = async (params: Parameters<LanguageModelV4['doGenerate']>[0], stream: boolean) => {
    const messages = params.prompt.map((m) => ({
      role: m.role,
      content:
        typeof m.content === 'string'
          ? m.content
          : m.content.map((p) => (p.type === 'text' ? p.text : '')).join(''),
    }))
    const body = { model: modelId, messages, stream }
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: params.abortSignal,
    })
    if (!res.ok) {
      const text = await res.text()
      const responseHeaders: Record<string, string> = {}
      res.headers.forEach((value, name) => {
        responseHeaders[name] = value
      })
      throw new APICallError({
        message: `HTTP ${res.status}`,
        url,
        requestBodyValues: body,
        statusCode: res.status,
        responseHeaders,
        responseBody: text,
        isRetryable: res.status === 408 || res.status === 429 || res.status >= 500,
        data: JSON.parse(text),
      })
    }
    return res
  }
  const usage = (input: number, output: number) => ({
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  })
  return {
    specificationVersion: 'v4',
    provider: 'fake.chat',
    modelId,
    supportedUrls: {},
    async doGenerate(params) {
      const json = (await (await post(params, false)).json()) as any
      return {
        content: [{ type: 'text', text: json.choices[0].message.content }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage: usage(json.usage.prompt_tokens, json.usage.completion_tokens),
        warnings: [],
      }
    },
    async doStream(params) {
      const res = await post(params, true)
      let buffer = ''
      let started = false
      const parts = new TransformStream<string, LanguageModelV4StreamPart>({
        start(controller) {
          controller.enqueue({ type: 'stream-start', warnings: [] })
        },
        transform(text, controller) {
          buffer += text
          let end: number
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = event
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n')
            if (data === '' || data === '[DONE]') continue
            const chunk = JSON.parse(data)
            if (chunk.error) {
              controller.enqueue({ type: 'error', error: chunk.error })
              continue
            }
            const choice = chunk.choices?.[0]
            if (!started) {
              started = true
              controller.enqueue({ type: 'text-start', id: 't0' })
            }
            if (choice?.delta?.content)
              controller.enqueue({ type: 'text-delta', id: 't0', delta: choice.delta.content })
            if (choice?.finish_reason) {
              controller.enqueue({ type: 'text-end', id: 't0' })
              controller.enqueue({
                type: 'finish',
                finishReason: { unified: 'stop', raw: choice.finish_reason },
                usage: usage(undefined as never, undefined as never),
              })
            }
          }
        },
      })
      return { stream: res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(parts) }
    },
  }
}
