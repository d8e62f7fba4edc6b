import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { traceGenAi } from '../../src/telemetry/gen-ai.js'
import { deferred, flush } from '../helpers/deferred.js'
import { fakeProvider, openaiClient, user } from '../providers/provider-fixtures.js'
import { type Otel, registerOtel } from './otel-fixture.js'

let otel: Otel
beforeEach(() => {
  otel = registerOtel()
})
afterEach(async () => {
  await otel.stop()
})

describe('GenAI attributes on the call span (the hook the provider transport calls)', () => {
  it('O9 traceGenAi(ctx, answer) puts the gen_ai.* attributes of a real OpenAI answer on the breakwater.call span', async () => {
    const fake = await fakeProvider()
    const client = openaiClient(fake)
    const guard = llmGuard({ timeout: false })
    const reply = await guard.execute(
      async (ctx) => {
        const r = await client.chat.completions.create(
          { model: 'gpt-4o-mini', messages: user('hello') },
          { maxRetries: 0, signal: ctx.signal },
        )
        traceGenAi(ctx, {
          provider: 'openai',
          operation: 'chat',
          model: 'gpt-4o-mini',
          responseModel: r.model,
          usage: { inputTokens: r.usage?.prompt_tokens, outputTokens: r.usage?.completion_tokens },
        })
        return r
      },
      { service: 'openai:gpt-4o-mini' },
    )
    expect(reply.usage?.prompt_tokens).toBeGreaterThan(0)
    expect(otel.callSpan().attributes).toMatchObject({
      'breakwater.service': 'openai:gpt-4o-mini',
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': reply.model,
      'gen_ai.usage.input_tokens': reply.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': reply.usage!.completion_tokens,
    })
  })

  it('O10 a stream reported at its end, outside the call context, still finds its span through ctx; tokens add up over attempts', async () => {
    const guard = llmGuard({ timeout: false, retry: { baseDelayMs: 0 } })
    const stream = deferred()
    let attempts = 0
    let held: Parameters<typeof traceGenAi>[0]
    await guard.execute((ctx) => {
      if (++attempts === 1) {
        traceGenAi(ctx, { usage: { inputTokens: 10 } }) // an error answer that still reported usage
        throw Object.assign(new Error('overloaded'), { status: 529 })
      }
      held = ctx
      ctx.hold(stream.promise)
      return 'first chunk'
    })
    // The stream's last event arrives where the consumer reads it: not in the call's context.
    await new Promise<void>((resolve) => setTimeout(resolve, 0))
    traceGenAi(held, {
      provider: 'anthropic',
      operation: 'chat',
      model: 'claude-x',
      responseModel: 'claude-x-2026',
      usage: { inputTokens: 12, outputTokens: 30 },
    })
    stream.resolve(undefined)
    await flush()
    expect(otel.callSpan().attributes).toMatchObject({
      'breakwater.attempts': 2,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.model': 'claude-x-2026',
      'gen_ai.usage.input_tokens': 22,
      'gen_ai.usage.output_tokens': 30,
    })
    // After the span ended, a late report changes nothing (and does not throw).
    traceGenAi(held, { usage: { outputTokens: 1 } })
    expect(otel.callSpan().attributes['gen_ai.usage.output_tokens']).toBe(30)
  })
})
