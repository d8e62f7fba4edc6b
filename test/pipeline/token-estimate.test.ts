import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import { afterEach, describe, expect, it } from 'vitest'
import {
  compactionWorker,
  estimateTextTokens,
  planCompaction,
  resolvePolicy,
  type CompactionWorker,
  type Message,
} from '../../src/pipeline/index.js'
import { shellOutput, realisticText, TEXT_KINDS } from './realistic-text.js'
import { CALM, controlledSummarizer } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

describe('token counts (P13)', () => {
  it('P13 the default estimate is at least 0.9 × o200k on code, prose, JSON, logs, shell output, Chinese and Japanese', () => {
    const samples = [
      ...TEXT_KINDS.flatMap((kind) =>
        [500, 5_000, 20_000].map((size, i) => ({ kind, text: realisticText(kind, size, i + 1) })),
      ),
      { kind: 'shell', text: shellOutput(12_000, 4) },
      { kind: 'minified json', text: JSON.stringify(JSON.parse(realisticText('json', 12_000, 5))) },
    ]
    for (const { kind, text } of samples) {
      const ratio = estimateTextTokens(text) / countTokens(text)
      expect({ kind, ok: ratio >= 0.9 && ratio <= 1.35 }, `${kind}: ${ratio.toFixed(2)}`).toEqual({
        kind,
        ok: true,
      })
    }
  })

  it('P13 policy.countTokens plugs a real tokenizer for messages, transcripts and summaries', () => {
    const p = resolvePolicy({ countTokens })
    const text = realisticText('chinese', 2_000, 3)
    const m: Message = {
      id: 'a',
      role: 'assistant',
      content: text,
      toolCalls: [{ id: 'c', name: 'read_file', arguments: '{"path":"src/a.ts"}' }],
    }
    expect(p.estimateTokens(m)).toBe(
      countTokens(text) + countTokens('read_file') + countTokens('{"path":"src/a.ts"}') + 4,
    )
    expect(p.countTokens(text)).toBe(countTokens(text))
    expect(() => resolvePolicy({ countTokens, estimateTokens: () => 1 })).toThrow(
      /"estimateTokens".*unset when countTokens/,
    )
    expect(() => resolvePolicy({ countTokens: 'o200k' as never })).toThrow(/"countTokens"/)
  })

  it('P13 recordUsage calibrates the counts from the provider’s reported input tokens', async () => {
    const worker = compactionWorker({
      summarizer: controlledSummarizer().summarizer,
      policy: { contextWindow: 20_000 },
      signals: { read: () => CALM },
    })
    workers.push(worker)
    const s = worker.session('usage')
    const messages: Message[] = [{ id: 'u', role: 'user', content: realisticText('prose', 8_000, 1) }]
    const sent = await s.prepareRequest(messages)
    const estimate = s.countTokens(sent)
    s.recordUsage({ inputTokens: estimate * 2 })
    expect(s.calibrationFactor).toBe(2)
    expect(s.countTokens(sent)).toBe(estimate * 2)
    s.recordUsage({ inputTokens: 10, messages: sent })
    expect(s.calibrationFactor).toBe(0.5) // bounded
    expect(() => s.recordUsage({ inputTokens: -1 })).toThrow(/"inputTokens".*-1/)
    expect(() => s.recordUsage(undefined as never)).toThrow(TypeError)
  })

  it('P13 counts are cached per message: a recount counts only new or changed messages', () => {
    let counted = 0
    const p = resolvePolicy({ countTokens: (t: string) => (counted++, t.length) })
    const messages: Message[] = Array.from({ length: 500 }, (_, i) => ({
      id: `m${i}`,
      role: 'user',
      content: `message ${i}`,
    }))
    planCompaction(messages, p)
    expect(counted).toBe(500)
    messages.push({ id: 'new', role: 'user', content: 'one more' })
    messages[3] = { ...messages[3]!, content: 'edited' }
    planCompaction(messages, p)
    expect(counted).toBe(502)
  })
})
