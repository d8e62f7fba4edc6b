import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { ShedEvent, SoftLimitEvent } from '../../src/backpressure/backpressure-options.js'
import type { CallOptions } from '../../src/core/call-options.js'
import {
  BackpressureShedError,
  isBackpressureShedError,
} from '../../src/core/errors/backpressure-shed-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush } from '../helpers/deferred.js'

type Guard = ReturnType<typeof backpressureGuard>

/** Starts a call that stays in flight until `release()`; `started` tells whether fn was called. */
function hold(guard: Guard, call?: CallOptions, label = '') {
  const gate = deferred<string>()
  const state = { started: false, label }
  const result = guard.execute(() => {
    state.started = true
    return gate.promise
  }, call)
  const settled = result.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  return {
    state,
    result,
    settled,
    release: (v = label) => gate.resolve(v),
    fail: (e: unknown) => gate.reject(e),
  }
}

async function shedOf(promise: Promise<unknown>): Promise<BackpressureShedError> {
  const error = await promise.catch((e: unknown) => e)
  expect(isBackpressureShedError(error)).toBe(true)
  return error as BackpressureShedError
}

describe('B1 admission', () => {
  it('B1 admits while in-flight < hardLimit, then sheds with depth, capacity and reason', async () => {
    const guard = backpressureGuard({ hardLimit: 2 })
    const shedEvents: ShedEvent[] = []
    guard.onShed((e) => shedEvents.push(e))
    const a = hold(guard)
    const b = hold(guard)
    await flush()
    expect([a.state.started, b.state.started]).toEqual([true, true])
    expect(guard.depth).toBe(2)
    let called = false
    const shed = await shedOf(guard.execute(() => (called = true), { service: 'svc' }))
    expect(shed).toMatchObject({ reason: 'hard_limit', depth: 2, capacity: 2 })
    expect(called).toBe(false)
    expect(shedEvents).toEqual([
      { reason: 'hard_limit', priority: 'foreground', depth: 2, capacity: 2, service: 'svc' },
    ])
    a.release()
    await a.result
    expect(await guard.execute(() => 'room again')).toBe('room again')
    b.release()
    await b.result
  })

  it('B1 costLimit admits while the in-flight cost fits and sheds a call too large at once', async () => {
    const guard = backpressureGuard({ hardLimit: 10, costLimit: 100 })
    const a = hold(guard, { cost: 60 })
    await flush()
    expect(guard.inflightCost).toBe(60)
    expect(await shedOf(guard.execute(() => 1, { cost: 41 }))).toMatchObject({
      reason: 'hard_limit',
      capacity: 100,
    })
    expect(await guard.execute(() => 'fits', { cost: 40 })).toBe('fits')
    a.release()
    await a.result
    expect(guard.inflightCost).toBe(0)
    // Idle, with room to spare in every other way: still refused, and no queue would help.
    const queued = backpressureGuard({ hardLimit: 10, costLimit: 100, maxQueue: 5 })
    expect(await shedOf(queued.execute(() => 1, { cost: 101 }))).toMatchObject({
      reason: 'too_large',
      depth: 0,
      capacity: 100,
    })
    expect(queued.queued).toBe(0)
  })
})

describe('B2 soft limit', () => {
  it('B2 a call admitted while depth >= softLimit fires onSoftLimit; "warn" sheds nothing', async () => {
    const guard = backpressureGuard({ hardLimit: 3, softLimit: 1 })
    const events: SoftLimitEvent[] = []
    guard.onSoftLimit((e) => events.push(e))
    const a = hold(guard)
    expect(events).toEqual([])
    const b = hold(guard, { priority: 'background', service: 's' })
    await flush()
    expect(b.state.started).toBe(true)
    expect(events).toEqual([{ depth: 1, softLimit: 1, priority: 'background', service: 's' }])
    expect(guard.softDepthRatio).toBe(2)
    a.release()
    b.release()
    await Promise.all([a.result, b.result])
    expect(guard.softDepthRatio).toBe(0)
    expect(backpressureGuard({ hardLimit: 3 }).softDepthRatio).toBe(0)
  })

  it('B2 with shed-background, background calls are shed at the soft limit while foreground reaches the hard limit', async () => {
    const guard = backpressureGuard({ hardLimit: 3, softLimit: 1, softAction: 'shed-background' })
    const shedEvents: ShedEvent[] = []
    guard.onShed((e) => shedEvents.push(e))
    const bg1 = hold(guard, { priority: 'background' })
    await flush()
    expect(bg1.state.started).toBe(true) // depth 0 < soft limit
    const bg2 = await shedOf(guard.execute(() => 1, { priority: 'background' }))
    expect(bg2).toMatchObject({ reason: 'soft_limit', depth: 1, capacity: 1 })
    const fg1 = hold(guard)
    const fg2 = hold(guard)
    await flush()
    expect([fg1.state.started, fg2.state.started]).toEqual([true, true])
    expect(await shedOf(guard.execute(() => 1))).toMatchObject({ reason: 'hard_limit', depth: 3 })
    expect(shedEvents.map((e) => [e.reason, e.priority])).toEqual([
      ['soft_limit', 'background'],
      ['hard_limit', 'foreground'],
    ])
    for (const c of [bg1, fg1, fg2]) c.release()
    await Promise.all([bg1.result, fg1.result, fg2.result])
  })
})

describe('B3 slot accounting', () => {
  it('B3 depth returns to 0 after success, failure, abort and a settled hold, and never goes below 0', async () => {
    const guard = backpressureGuard({ hardLimit: 4 })
    const ok = hold(guard)
    const bad = hold(guard)
    const abort = new AbortController()
    const aborted = guard.execute(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      { signal: abort.signal },
    )
    const streamEnd = deferred<void>()
    const streamed = guard.execute((ctx) => {
      ctx.hold(streamEnd.promise)
      return 'stream'
    })
    await flush()
    expect(guard.depth).toBe(4)
    ok.release()
    await ok.result
    expect(guard.depth).toBe(3)
    bad.fail(new Error('boom'))
    await expect(bad.result).rejects.toThrow('boom')
    expect(guard.depth).toBe(2)
    abort.abort(new Error('caller left'))
    await expect(aborted).rejects.toThrow('caller left')
    expect(guard.depth).toBe(1)
    expect(await streamed).toBe('stream')
    expect(guard.depth).toBe(1) // the stream keeps its slot until it ends
    streamEnd.reject(new Error('stream broke'))
    await flush()
    expect(guard.depth).toBe(0)
    expect(guard.inflightCost).toBe(0)
    // A function that throws synchronously releases too.
    await expect(
      guard.execute(() => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(guard.depth).toBe(0)
  })
})

describe('B4 queue', () => {
  it('B4 the queue serves foreground first, FIFO within a class', async () => {
    const guard = backpressureGuard({ hardLimit: 1, maxQueue: 10 })
    const order: string[] = []
    const running = hold(guard)
    const queued = [
      ['bg1', 'background'],
      ['fg1', 'foreground'],
      ['bg2', 'background'],
      ['fg2', 'foreground'],
    ].map(([label, priority]) =>
      guard.execute(() => order.push(label!), { priority: priority as 'foreground' | 'background' }),
    )
    await flush()
    expect(guard.queued).toBe(4)
    expect(guard.depth).toBe(1)
    running.release()
    await Promise.all(queued)
    expect(order).toEqual(['fg1', 'fg2', 'bg1', 'bg2'])
    expect([guard.depth, guard.queued]).toEqual([0, 0])
  })

  it('B4 no overtaking within a class, foreground passes a blocked background head, a leaving head lets the next in', async () => {
    const guard = backpressureGuard({ hardLimit: 10, costLimit: 10, maxQueue: 5 })
    const running = hold(guard, { cost: 8 })
    const abortBig = new AbortController()
    const bigBg = hold(guard, { cost: 5, priority: 'background', signal: abortBig.signal })
    const smallBg = hold(guard, { cost: 1, priority: 'background' })
    const smallFg = hold(guard, { cost: 1 })
    await flush()
    expect([bigBg.state.started, smallBg.state.started, smallFg.state.started]).toEqual([false, false, true])
    expect(guard.queued).toBe(2)
    abortBig.abort(new Error('gone'))
    await flush()
    expect(smallBg.state.started).toBe(true) // admitted as soon as the head left, with no release
    expect(guard.inflightCost).toBe(10)
    for (const c of [running, smallBg, smallFg]) c.release()
    await Promise.all([running.result, smallBg.result, smallFg.result, bigBg.settled])
    expect(guard.depth).toBe(0)
  })

  it('B4 the queue is bounded by maxQueue', async () => {
    const guard = backpressureGuard({ hardLimit: 1, maxQueue: 1 })
    const running = hold(guard)
    const waiting = hold(guard)
    await flush()
    expect(await shedOf(guard.execute(() => 1))).toMatchObject({
      reason: 'queue_full',
      capacity: 1,
      depth: 1,
    })
    running.release()
    await running.result
    await flush()
    expect(waiting.state.started).toBe(true)
    waiting.release()
    await waiting.result
  })

  it('B4 a call waits at most queueTimeoutMs, by the injected clock', async () => {
    const clock = testClock()
    const guard = backpressureGuard({ hardLimit: 1, maxQueue: 1, queueTimeoutMs: 100, clock })
    const running = hold(guard)
    const waiting = hold(guard)
    await clock.advance(99)
    expect(guard.queued).toBe(1)
    await clock.advance(1)
    const result = await waiting.settled
    expect(result.ok).toBe(false)
    expect(await shedOf(Promise.reject((result as { error: unknown }).error))).toMatchObject({
      reason: 'queue_timeout',
      capacity: 1,
    })
    expect(waiting.state.started).toBe(false)
    expect(guard.queued).toBe(0)
    running.release()
    await running.result
    expect(clock.pending).toBe(0)
  })

  it('B4 a queued call whose signal aborts leaves the queue at once with the signal reason', async () => {
    const clock = testClock()
    const guard = backpressureGuard({ hardLimit: 1, maxQueue: 2, queueTimeoutMs: 1000, clock })
    const running = hold(guard)
    const abort = new AbortController()
    const leaving = hold(guard, { signal: abort.signal })
    const staying = hold(guard)
    await flush()
    expect(guard.queued).toBe(2)
    const reason = new Error('user closed the tab')
    abort.abort(reason)
    expect(guard.queued).toBe(1) // synchronously, without waiting for a slot
    expect(await leaving.settled).toEqual({ ok: false, error: reason })
    expect(leaving.state.started).toBe(false)
    expect(clock.pending).toBe(1) // its queue timer is gone; the other call's remains
    running.release()
    await running.result
    await flush()
    expect(staying.state.started).toBe(true)
    staying.release()
    await staying.result
    expect(clock.pending).toBe(0)
    expect(guard.depth).toBe(0)
  })

  it('B4 a call already aborted is not queued', async () => {
    const guard = backpressureGuard({ hardLimit: 1, maxQueue: 2 })
    const running = hold(guard)
    const abort = new AbortController()
    abort.abort(new Error('gone'))
    await expect(guard.execute(() => 1, { signal: abort.signal })).rejects.toThrow('gone')
    expect(guard.queued).toBe(0)
    running.release()
    await running.result
  })
})
