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
    s.applyPending(messages) // consumed; the test keeps the long list to stay over the trigger
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

  it('P3 the previous summary is passed on the second pass', async () => {
    const w = setup()
    let messages = bigChat()
    const s = await compactOnce(w, 'c', messages, 'first summary')
    messages = s.beginTurn(messages)
    // Ids stay unique within the conversation (boundaries refer to them).
    messages.push(
      ...bigChat(12, 'later ')
        .slice(1)
        .map((m) => ({ ...m, id: `later-${m.id}` })),
    )
    expect((await s.endTurn(messages))?.reason).toBe('cooldown')
    await w.clock.advance(60_000)
    expect((await s.endTurn(messages))?.reason).toBe('allowed')
    expect(w.calls[1]!.input.previousSummary).toBe('first summary')
    w.calls[1]!.result.resolve('second summary')
    await s.idle()
    const after = s.beginTurn(messages)
    expect(after.filter(isSummaryMessage).map((m) => m.content)).toEqual([
      '<conversation-summary>\nsecond summary\n</conversation-summary>',
    ])
  })

  it('P4 the summarizer never sees messages appended after the plan; they are kept on apply', async () => {
    const w = setup()
    const messages = bigChat()
    const s = w.worker.session('x')
    await s.endTurn(messages)
    const turn = s.beginTurn(messages) // nothing to apply yet: same list
    expect(turn).toBe(messages)
    messages.push({ id: 'late-user', role: 'user', content: 'SECRET appended during compaction' })
    const input = w.calls[0]!.input
    expect(input.transcript).not.toContain('SECRET')
    expect(input.messages!.some((m) => m.id === 'late-user')).toBe(false)
    w.calls[0]!.result.resolve('summary')
    await s.idle()
    await s.endTurn(messages)
    const applied = s.beginTurn(messages)
    expect(applied.at(-1)!.id).toBe('late-user')
    expect(applied.filter(isSummaryMessage)).toHaveLength(1)
    expect(toolCallsPaired(applied)).toBe(true)
  })

  it('P7 failure and malformed results leave messages untouched, clear the marker, record no boundary', async () => {
    for (const outcome of ['reject', '', '   ', 42] as const) {
      const w = setup()
      const messages = bigChat()
      const before = JSON.stringify(messages)
      const s = w.worker.session('f')
      await s.endTurn(messages)
      const call = w.calls[0]!.result
      if (outcome === 'reject') call.reject(new Error('provider exploded'))
      else call.resolve(outcome as string)
      await s.idle()
      expect(w.failed).toHaveLength(1)
      expect(w.failed[0]!.reason).toBe(outcome === 'reject' ? 'error' : 'malformed')
      expect(w.failed[0]!.message).toMatch(outcome === 'reject' ? 'provider exploded' : /malformed_summary/)
      expect(s.beginTurn(messages)).toBe(messages)
      expect(JSON.stringify(messages)).toBe(before)
      const record = await w.store.read('f')
      expect(record).toMatchObject({ inFlight: false, attempts: 1 })
      expect(record.boundaryMessageId).toBeUndefined()
      expect(w.worker.evidence().runs).toEqual({ completed: 0, failed: 1, rejected: 0 })
    }
  })

  it('P7 a result that does not end below 0.8 × trigger is refused and counted, and does not loop', async () => {
    const w = setup()
    const rejected: unknown[] = []
    w.worker.onRejected((e) => rejected.push(e))
    const messages = bigChat()
    const s = w.worker.session('big')
    await s.endTurn(messages)
    w.calls[0]!.result.resolve('long '.repeat(2_000))
    await s.idle()
    expect(rejected).toMatchObject([{ reason: 'not_below_target', outcome: 'rejected', sessionId: 'big' }])
    expect(s.beginTurn(messages)).toBe(messages)
    expect((await s.endTurn(messages))?.reason).toBe('cooldown')
    expect(w.calls).toHaveLength(1)
    expect(w.worker.evidence().runs.rejected).toBe(1)
  })

  it('P9 manual compaction is refused while a turn runs or paused, allowed when idle', async () => {
    const w = setup()
    const messages = bigChat()
    const s = w.worker.session('m')
    s.beginTurn(messages)
    const busy = await s.compact(messages).catch((e: unknown) => e)
    expect(isAlreadyRunningError(busy)).toBe(true)
    expect(busy).toMatchObject({ code: 'BREAKWATER_ALREADY_RUNNING', running: 'turn' })
    await s.endTurn(messages.slice(0, 3))
    s.pause()
    expect(await s.compact(messages).catch((e: unknown) => e)).toMatchObject({ running: 'paused' })
    expect(await s.endTurn(messages)).toBeUndefined()
    s.resume()
    const done = s.compact(messages)
    await flush()
    expect(await s.compact(messages).catch((e: unknown) => e)).toMatchObject({ running: 'compaction' })
    w.calls[0]!.result.resolve('manual summary')
    const compacted = await done
    expect(compacted[1]!.content).toContain('manual summary')
    expect(compacted.length).toBeLessThan(messages.length)
  })

  it('P9 background results are applied at the next turn boundary, not before', async () => {
    const w = setup()
    const messages = bigChat()
    const s = w.worker.session('b')
    await s.endTurn(messages)
    const during = s.beginTurn(messages)
    w.calls[0]!.result.resolve('summary')
    await s.idle()
    expect(during).toBe(messages) // the running turn is not disturbed
    expect(s.hasPendingResult).toBe(true)
    await s.endTurn(messages)
    const next = s.beginTurn(messages)
    expect(next).not.toBe(messages)
    expect(next.filter(isSummaryMessage)).toHaveLength(1)
    expect(s.hasPendingResult).toBe(false)
  })
})
