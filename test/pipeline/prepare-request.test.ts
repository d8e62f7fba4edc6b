import * as Anthropic from '@anthropic-ai/sdk'
import * as OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import {
  compactionWorker,
  estimateTotal,
  isCompactionRefusedError,
  isSummaryMessage,
  type CompactionTrimmedEvent,
  type CompactionWorker,
  type CompactionWorkerOptions,
  type Message,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { flush } from '../helpers/deferred.js'
import { conversation, toolCallsPaired } from './conversation.js'
import { realisticText } from './realistic-text.js'
import { CALM, controlledSummarizer } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

/** A 20 000-token window: trigger 16 000, target 12 800, keep 4 000 raw, summary budget 1 600. */
const POLICY = { contextWindow: 20_000 }

function setup(extra: Partial<CompactionWorkerOptions> = {}) {
  const clock = testClock()
  const control = controlledSummarizer()
  const worker = compactionWorker({
    summarizer: control.summarizer,
    policy: POLICY,
    clock,
    signals: { read: () => CALM },
    ...extra,
  })
  workers.push(worker)
  const trimmed: CompactionTrimmedEvent[] = []
  worker.onTrimmed((e) => trimmed.push(e))
  return { clock, worker, control, trimmed }
}

/** Turns of (user, read_file of a real-looking source file, answer) up to about `tokens`. */
function longChat(tokens: number, seed = 1): Message[] {
  const c = conversation().system('You are a coding agent.')
  for (let i = 0; estimateTotal(c.messages) < tokens; i++) {
    c.user(`Step ${i}: fix src/mod${i}.ts`)
      .tool('read_file', { path: `src/mod${i}.ts` }, realisticText('code', 3_000, seed * 100 + i))
      .assistant(`Fixed src/mod${i}.ts.`)
  }
  return c.messages
}

const latestUser = (messages: Message[]) => messages.filter((m) => m.role === 'user').at(-1)!

describe('prepareRequest', () => {
  it('P11 messages that fit come back as they are; outside a turn a finished compaction is applied first', async () => {
    const { worker } = setup()
    const s = worker.session('fits')
    const messages = longChat(5_000)
    expect(await s.prepareRequest(messages, { outputTokens: 1_000 })).toBe(messages)
  })

  it('P11 a request that would not fit waits for the running background compaction and sends its result', async () => {
    const { worker, control } = setup()
    const s = worker.session('wait')
    const messages = longChat(17_000)
    expect((await s.endTurn(messages))?.reason).toBe('allowed')
    s.beginTurn(messages)
    messages.push(
      ...longChat(3_000, 2)
        .slice(1)
        .map((m) => ({ ...m, id: `late-${m.id}` })),
    )
    const prepared = s.prepareRequest(messages, { outputTokens: 2_000 })
    await flush()
    control.calls[0]!.result.resolve('the summary')
    const sent = await prepared
    expect(sent.filter(isSummaryMessage).map((m) => m.content)).toEqual([
      '<conversation-summary>\nthe summary\n</conversation-summary>',
    ])
    expect(s.countTokens(sent) + 2_000).toBeLessThanOrEqual(POLICY.contextWindow)
    expect(sent.at(-1)).toBe(messages.at(-1))
    expect(control.calls).toHaveLength(1)
  })

  it('P11 when the summarizer is too slow, the extractive fallback writes the foreground summary in time', async () => {
    const { worker, control, clock } = setup({ quota: { foregroundTimeoutMs: 5_000 } })
    const completed: { summarizer: string; foreground: boolean }[] = []
    worker.onCompleted((e) => completed.push(e))
    const s = worker.session('slow')
    const messages = longChat(21_000)
    const prepared = s.prepareRequest(messages, { outputTokens: 1_000 })
    await flush()
    expect(control.calls).toHaveLength(1) // the primary was asked…
    await clock.advance(5_000) // …and never answered
    const sent = await prepared
    expect(control.calls[0]!.input.signal.aborted).toBe(true)
    expect(completed).toEqual([expect.objectContaining({ summarizer: 'fallback', foreground: true })])
    expect(sent.find(isSummaryMessage)!.content).toContain('Extractive summary')
    expect(s.countTokens(sent) + 1_000).toBeLessThanOrEqual(POLICY.contextWindow)
    expect(latestUser(sent)).toEqual(latestUser(messages))
  })

  it('P11 a failing summarizer falls back; with no fallback, trimming the oldest content keeps the request within the window', async () => {
    const { worker, control, trimmed } = setup({ fallback: false })
    const s = worker.session('trim')
    const messages = longChat(30_000)
    const prepared = s.prepareRequest(messages, { outputTokens: 2_000 })
    await flush()
    control.calls[0]!.result.reject(new Error('provider down'))
    const sent = await prepared
    expect(s.countTokens(sent) + 2_000).toBeLessThanOrEqual(POLICY.contextWindow)
    expect(trimmed).toHaveLength(1)
    expect(trimmed[0]!.droppedMessages).toBeGreaterThan(0)
    expect(sent[0]!.id).toBe(messages[0]!.id) // pinned
    expect(sent.slice(-3)).toEqual(messages.slice(-3)) // the current turn
    expect(toolCallsPaired(sent)).toBe(true)
  })

  it('P11 a context_overflow error from OpenAI or Anthropic raises the counts: the refused messages come back smaller', async () => {
    for (const error of [
      OpenAI.APIError.generate(
        400,
        {
          error: {
            message:
              "This model's maximum context length is 20000 tokens. However, your messages resulted in 26000 tokens.",
            type: 'invalid_request_error',
            code: 'context_length_exceeded',
          },
        },
        undefined,
        new Headers(),
      ),
      Anthropic.APIError.generate(
        400,
        {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: 'prompt is too long: 26000 tokens > 20000 maximum',
          },
        },
        undefined,
        new Headers(),
      ),
    ]) {
      const { worker, control } = setup()
      const s = worker.session('overflow')
      const messages = longChat(15_000)
      expect(await s.prepareRequest(messages)).toBe(messages) // fits by the estimate…
      const prepared = s.prepareRequest(messages, { overflow: error }) // …but the provider said 26 000
      await flush()
      control.calls[0]!.result.resolve('summary')
      const sent = await prepared
      expect(s.calibrationFactor).toBeCloseTo(26_000 / estimateTotal(messages), 2)
      expect(s.countTokens(sent)).toBeLessThanOrEqual(POLICY.contextWindow)
      expect(estimateTotal(sent) * (26_000 / estimateTotal(messages))).toBeLessThanOrEqual(20_000)
    }
  })

  it('P11 bad input is a clear error; pinned messages alone over the window are refused as cannot_fit', async () => {
    const { worker } = setup()
    const s = worker.session('bad')
    await expect(s.prepareRequest(longChat(100), { outputTokens: -1 })).rejects.toThrow(/"outputTokens".*-1/)
    await expect(s.prepareRequest(longChat(100), { outputTokens: 20_000 })).rejects.toThrow(RangeError)
    await expect(s.prepareRequest(longChat(100), { overflow: new Error('boom') })).rejects.toThrow(
      /"overflow" must be a context_overflow error/,
    )
    await expect(s.prepareRequest('x' as never)).rejects.toThrow(TypeError)
    const huge: Message[] = [
      { id: 's', role: 'system', content: realisticText('prose', 100_000, 1) },
      { id: 'u', role: 'user', content: 'hi' },
    ]
    const refused = await s.prepareRequest(huge).catch((e: unknown) => e)
    expect(isCompactionRefusedError(refused) && refused.reason).toBe('cannot_fit')
  })

  it('P11 an abort while waiting rejects with the signal reason and leaves the messages alone', async () => {
    const { worker } = setup()
    const s = worker.session('abort')
    const messages = longChat(21_000)
    const before = JSON.stringify(messages)
    const controller = new AbortController()
    const prepared = s.prepareRequest(messages, { signal: controller.signal })
    await flush()
    controller.abort(new Error('user left'))
    await expect(prepared).rejects.toThrow('user left')
    expect(JSON.stringify(messages)).toBe(before)
    await s.idle()
  })
})

describe('the current turn survives (P12)', () => {
  it('P12 newest tool results larger than keepRecentTokens: the latest user message and tool group stay raw, never [system, summary]', async () => {
    const { worker, control } = setup()
    const s = worker.session('big-results')
    const c = conversation().system('You are a coding agent.')
    for (let i = 0; i < 8; i++)
      c.user(`Step ${i}`)
        .tool('bash', { command: 'npm test' }, realisticText('logs', 6_000, i))
        .assistant('ok')
    c.user('Now read the two biggest files')
    c.tool('read_file', { path: 'src/a.ts' }, realisticText('code', 14_000, 90))
    c.tool('read_file', { path: 'src/b.ts' }, realisticText('code', 14_000, 91))
    const messages = c.messages
    expect((await s.endTurn(messages))?.reason).toBe('allowed')
    const input = control.calls[0]!.input
    expect(input.messages!.some((m) => m.content === 'Now read the two biggest files')).toBe(false)
    control.calls[0]!.result.resolve('summary')
    await s.idle()
    const after = s.beginTurn(messages)
    // The request, carried over the summary, and the turn's latest tool group, raw.
    expect(after.map((m) => m.role)).toEqual(['system', 'system', 'user', 'assistant', 'tool'])
    expect(after[2]!.content).toBe('Now read the two biggest files')
    expect(after.slice(-2)).toEqual(messages.slice(-2))
  })

  it('P12 one oversized turn is split: its older part summarized, its latest group kept, oversized outputs cut with a marker', async () => {
    const { worker, control } = setup()
    const s = worker.session('one-turn')
    const c = conversation().system('You are a coding agent.').user('Find the leak in the worker pool')
    for (let i = 0; i < 6; i++)
      c.tool('read_file', { path: `src/pool/part${i}.ts` }, realisticText('code', 8_000, i))
    c.tool('bash', { command: 'cat logs/heap.log' }, realisticText('logs', 60_000, 9))
    const messages = c.messages
    const sent = s.prepareRequest(messages, { outputTokens: 1_000 })
    await flush()
    expect(control.calls[0]!.input.messages!.length).toBeGreaterThan(0) // the turn's older groups
    control.calls[0]!.result.resolve('Read part0–part5; no leak there yet.')
    const out = await sent
    expect(out[2]).toEqual(messages[1]) // the request, carried over the summary
    const last = out.at(-1)!
    expect(last.toolCallId).toBe(messages.at(-1)!.toolCallId)
    expect(last.content).toMatch(/… \[\d+ characters cut to fit the context window\] …/)
    expect(out.filter((m) => m.role !== 'system').length).toBeGreaterThan(1)
    expect(toolCallsPaired(out)).toBe(true)
    expect(s.countTokens(out) + 1_000).toBeLessThanOrEqual(POLICY.contextWindow)
  })
})
