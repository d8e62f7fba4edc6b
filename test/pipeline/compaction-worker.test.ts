import { afterEach, describe, expect, it } from 'vitest'
import { isTimeoutError } from '../../src/core/errors/timeout-error.js'
import {
  compactionWorker,
  InMemoryCompactionStore,
  isAlreadyRunningError,
  isSummaryMessage,
  type AdmissionDecision,
  type CompactionFailedEvent,
  type CompactionWorker,
  type CompactionWorkerOptions,
} from '../../src/pipeline/index.js'
import { testClock } from '../../src/testing/test-clock.js'
import { flush } from '../helpers/deferred.js'
import { toolCallsPaired } from './conversation.js'
import { bigChat, controlledSummarizer, manualSignals, POLICY } from './worker-fixtures.js'

let workers: CompactionWorker[] = []
afterEach(async () => {
  await Promise.all(workers.map((w) => w.dispose()))
  workers = []
})

function setup(extra: Partial<CompactionWorkerOptions> = {}) {
  const clock = testClock()
  const store = new InMemoryCompactionStore({ clock })
  const control = controlledSummarizer()
  const signals = manualSignals()
  const worker = compactionWorker({
    summarizer: control.summarizer,
    fallback: false,
    policy: POLICY,
    clock,
    store,
    signals: signals.source,
    ...extra,
  })
  workers.push(worker)
  const failed: CompactionFailedEvent[] = []
  worker.onFailed((e) => failed.push(e))
  return { clock, store, worker, calls: control.calls, signals, failed }
}

/** Runs one background compaction to completion with `summary`. */
async function compactOnce(
  w: ReturnType<typeof setup>,
  id: string,
  messages: ReturnType<typeof bigChat>,
  summary = 'S',
) {
  const s = w.worker.session(id)
  const decision = await s.endTurn(messages)
  expect(decision?.reason).toBe('allowed')
  w.calls.at(-1)!.result.resolve(summary)
  await s.idle()
  return s
}

describe('compactionWorker', () => {
  it('P5 single flight per session: a second turn end while one runs is pending; other sessions run', async () => {
    const w = setup()
    const a = w.worker.session('a')
    expect((await a.endTurn(bigChat()))?.reason).toBe('allowed')
    expect(a.compacting).toBe(true)
    expect((await a.endTurn(bigChat()))?.reason).toBe('pending')
    expect((await w.worker.session('b').endTurn(bigChat()))?.reason).toBe('allowed')
    expect(w.calls).toHaveLength(2)
    expect((await w.store.read('a')).inFlight).toBe(true)
    w.calls[0]!.result.resolve('summary a')
    await a.idle()
    expect((await w.store.read('a')).inFlight).toBe(false)
    // The result waits for the turn boundary: still pending until applied.
    expect((await a.endTurn(bigChat()))?.reason).toBe('pending')
    w.calls[1]!.result.resolve('summary b')
  })

  it('P5 the timeout aborts the summarizer signal (test clock) and clears the marker', async () => {
    const w = setup({ quota: { timeoutMs: 5_000 } })
    const s = w.worker.session('t')
    await s.endTurn(bigChat())
    const { signal } = w.calls[0]!.input
    await w.clock.advance(4_999)
    expect(signal.aborted).toBe(false)
    await w.clock.advance(1)
    expect(signal.aborted).toBe(true)
    expect(isTimeoutError(signal.reason)).toBe(true)
    await s.idle()
    expect(w.failed.map((e) => e.reason)).toEqual(['timeout'])
    expect(w.failed[0]!.message).toContain('5000 ms')
    expect((await w.store.read('t')).inFlight).toBe(false)
    expect(s.hasPendingResult).toBe(false)
  })

  it('P5 cooldown after each attempt, attempt cap per session', async () => {
    const w = setup({ quota: { cooldownMs: 1_000, maxAttemptsPerSession: 2 } })
    const messages = bigChat()
    const s = await compactOnce(w, 's', messages)
    s.applyPending(messages) // discard into a copy: the caller keeps the long list on purpose
    const cooling = (await s.endTurn(messages))!
    expect(cooling).toMatchObject({
      allowed: false,
      reason: 'cooldown',
      cooldownRemainingMs: 1_000,
      attemptCount: 1,
    })
    await w.clock.advance(1_000)
    await compactOnce(w, 's', messages)
    s.applyPending(messages)
    await w.clock.advance(1_000)
    expect(await s.endTurn(messages)).toMatchObject({
      reason: 'session_attempt_limit',
      attemptCount: 2,
      maxAttemptsPerSession: 2,
    })
  })

  it('P5 dispose aborts pending work', async () => {
    const w = setup()
    const s = w.worker.session('d')
    await s.endTurn(bigChat())
    const { signal } = w.calls[0]!.input
    await w.worker.dispose()
    expect(signal.aborted).toBe(true)
    expect(w.failed.map((e) => e.reason)).toEqual(['aborted'])
    expect(await s.endTurn(bigChat())).toBeUndefined()
    expect(() => w.worker.session('x')).toThrow(/disposed/)
  })

  it('P6 decision objects, reasons in priority order, and an evidence summary', async () => {
    const w = setup({ quota: { cooldownMs: 1_000, maxAttemptsPerSession: 1 } })
    const decisions: AdmissionDecision[] = []
    w.worker.onAdmission((e) => decisions.push(e.decision))
    const messages = bigChat()
    w.signals.state.queueSaturated = true
    expect(await w.worker.session('q').endTurn(messages)).toEqual({
      schema: 'breakwater.compaction.admission.v1',
      allowed: false,
      reason: 'queue_saturated',
      tokensBefore: expect.any(Number),
      attemptCount: 0,
      maxAttemptsPerSession: 1,
      cooldownRemainingMs: 0,
      signals: { memoryPressure: false, providerDegraded: false, queueSaturated: true },
    })
    w.signals.state.providerDegraded = true
    expect((await w.worker.session('q').endTurn(messages))?.reason).toBe('provider_degraded')
    w.signals.state.memoryPressure = true
    expect((await w.worker.session('q').endTurn(messages))?.reason).toBe('memory_pressure')
    // Nothing would shrink: every message is kept raw.
    const keepAll = setup({ policy: { ...POLICY, keepRecentMessages: 1_000, keepRecentTokens: undefined } })
    expect((await keepAll.worker.session('n').endTurn(messages))?.reason).toBe('no_preparation')
    // Below the trigger no decision is made at all.
    expect(await w.worker.session('q').endTurn(messages.slice(0, 3))).toBeUndefined()
    expect(w.worker.evidence()).toMatchObject({
      schema: 'breakwater.compaction.evidence.v1',
      decisions: 3,
      admitted: 0,
      rejected: { queue_saturated: 1, provider_degraded: 1, memory_pressure: 1, cooldown: 0, pending: 0 },
    })
    expect(decisions.map((d) => d.reason)).toEqual([
      'queue_saturated',
      'provider_degraded',
      'memory_pressure',
    ])
  })

  it('P6 a pending compaction outranks every signal, the cap and the cooldown', async () => {
    const w = setup({ quota: { maxAttemptsPerSession: 1 } })
    const s = w.worker.session('p')
    await s.endTurn(bigChat())
    Object.assign(w.signals.state, { memoryPressure: true, providerDegraded: true, queueSaturated: true })
    const d = (await s.endTurn(bigChat()))!
    expect(d).toMatchObject({ allowed: false, reason: 'pending', attemptCount: 1 })
    w.calls[0]!.result.resolve('done')
    await s.idle()
    // Cap reached and cooldown running: the cap outranks the cooldown.
    s.applyPending(bigChat())
    expect((await s.endTurn(bigChat()))?.reason).toBe('session_attempt_limit')
  })
})
