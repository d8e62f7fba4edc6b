import { afterEach, describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/index.js'
import { circuitGuard } from '../../src/circuit/index.js'
import type { CallContext, CallOptions } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import type { Guard } from '../../src/core/guard.js'
import {
  compactionWorker,
  llmSummarizer,
  type ChatPrompt,
  type CompactionCompletedEvent,
  type CompactionWorker,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError, type Deferred } from '../helpers/deferred.js'
import { bigChat, CALM, POLICY } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

/** An LLM whose answers the test settles; records the context of every call. */
function fakeLlm() {
  const calls: { prompt: ChatPrompt; ctx: CallContext; answer: Deferred<string> }[] = []
  const complete = (prompt: ChatPrompt, ctx: CallContext): Promise<string> => {
    const answer = deferred<string>()
    calls.push({ prompt, ctx, answer })
    return answer.promise
  }
  return { calls, complete }
}

/** A guard that records the options of each call and passes it to `inner`. */
function recording(inner: Guard, seen: CallOptions[]): Guard {
  return { name: 'recording', execute: (fn, call) => (seen.push({ ...call }), inner.execute(fn, call)) }
}

describe('compaction through the guards', () => {
  it('P10 the summarize stage goes through the guard as background, never double-guarded', async () => {
    const clock = testClock()
    const seen: CallOptions[] = []
    const ownSeen: CallOptions[] = []
    const guard = recording(compose(backpressureGuard({ hardLimit: 4 })), seen)
    const llm = fakeLlm()
    const worker = compactionWorker({
      // The summarizer's own guard is for standalone use; the worker's guard replaces it.
      summarizer: llmSummarizer({ complete: llm.complete, guard: recording(guard, ownSeen) }),
      guard,
      service: 'anthropic:haiku',
      policy: POLICY,
      clock,
      signals: { read: () => CALM },
    })
    workers.push(worker)
    const s = worker.session('g')
    expect((await s.endTurn(bigChat()))?.reason).toBe('allowed')
    await flush()
    expect(seen).toMatchObject([{ priority: 'background', service: 'anthropic:haiku' }])
    expect(ownSeen).toEqual([])
    expect(llm.calls[0]!.ctx.priority).toBe('background')
    llm.calls[0]!.answer.resolve('## Goal\nship')
    await s.idle()
    expect(seen).toHaveLength(1)
  })

  it('P10 falls back to the extractive summarizer when the breaker is open or the LLM call fails', async () => {
    const clock = testClock()
    const circuit = circuitGuard({ threshold: 5, recoveryMs: 10_000, clock })
    const llm = fakeLlm()
    const completed: CompactionCompletedEvent[] = []
    const worker = compactionWorker({
      summarizer: llmSummarizer({ complete: llm.complete }),
      guard: circuit,
      policy: POLICY,
      clock,
      quota: { cooldownMs: 0 },
      // The breaker opens after admission: signals read it as closed.
      signals: { read: () => CALM },
    })
    workers.push(worker)
    worker.onCompleted((e) => completed.push(e))
    await circuit.isolate()
    const s = worker.session('fb')
    let messages = bigChat()
    await s.endTurn(messages)
    await s.idle()
    expect(llm.calls).toHaveLength(0)
    expect(completed).toMatchObject([{ summarizer: 'fallback' }])
    messages = s.beginTurn(messages)
    expect(messages[1]!.content).toContain('Extractive summary')
    expect(messages[1]!.content).toContain('src/mod0.ts')

    await circuit.reset()
    messages.push(...bigChat(12, 'more ').slice(1))
    await s.endTurn(messages)
    await flush()
    llm.calls[0]!.answer.reject(httpError(500))
    await s.idle()
    expect(completed.map((e) => e.summarizer)).toEqual(['fallback', 'fallback'])
    expect((completed[1]!.primaryError as { status: number }).status).toBe(500)
    const after = s.beginTurn(messages)
    expect(after[1]!.content).toContain('## Goal\ntask 0') // the merged summary keeps the first goal
  })

  it('P6 signals come from the live guards by default: breaker, backpressure depth, memory probe', async () => {
    const clock = testClock()
    const circuit = circuitGuard({ threshold: 5, recoveryMs: 10_000, clock })
    const bp = backpressureGuard({ hardLimit: 4, softLimit: 1 })
    let memoryTight = false
    const worker = compactionWorker({
      summarizer: llmSummarizer({ complete: fakeLlm().complete }),
      guard: compose(bp, circuit),
      policy: POLICY,
      clock,
      memoryProbe: () => memoryTight,
    })
    workers.push(worker)
    const s = worker.session('sig')
    const messages = bigChat()
    const release = deferred()
    const held = bp.execute(() => release.promise)
    await flush()
    expect(bp.softDepthRatio).toBe(1)
    expect(await s.endTurn(messages)).toMatchObject({
      reason: 'queue_saturated',
      signals: { queueSaturated: true, softDepthRatio: 1, circuitState: 'closed' },
    })
    await circuit.isolate()
    expect(await s.endTurn(messages)).toMatchObject({
      reason: 'provider_degraded',
      signals: { providerDegraded: true, circuitState: 'open' },
    })
    memoryTight = true
    expect((await s.endTurn(messages))?.reason).toBe('memory_pressure')
    release.resolve()
    await held
  })

  it('P10 with background calls at the soft limit, a foreground call is admitted without queueing while a compaction runs', async () => {
    const clock = testClock()
    const bp = backpressureGuard({ hardLimit: 3, softLimit: 1, softAction: 'shed-background', maxQueue: 10 })
    const llm = fakeLlm()
    const worker = compactionWorker({
      summarizer: llmSummarizer({ complete: llm.complete }),
      guard: bp,
      fallback: false,
      policy: POLICY,
      clock,
      memoryProbe: () => false,
    })
    workers.push(worker)
    const s = worker.session('fg')
    expect((await s.endTurn(bigChat()))?.reason).toBe('allowed')
    await flush()
    expect(llm.calls).toHaveLength(1) // the compaction holds one background slot: depth = soft limit
    expect(bp.depth).toBe(1)
    const shed = await bp.execute(() => 'never', { priority: 'background' }).catch((e: unknown) => e)
    expect(isBackpressureShedError(shed)).toBe(true)
    const order: string[] = []
    const foreground = bp.execute(
      () => {
        order.push('foreground ran')
        return 'answer'
      },
      { priority: 'foreground' },
    )
    expect(bp.queued).toBe(0)
    await expect(foreground).resolves.toBe('answer')
    expect(order).toEqual(['foreground ran'])
    expect(s.compacting).toBe(true)
    llm.calls[0]!.answer.resolve('summary')
    await s.idle()
    expect(s.hasPendingResult).toBe(true)
    expect(bp.depth).toBe(0)
  })
})
