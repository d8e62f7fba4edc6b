/**
 * R8: slots and probe leases follow the real work in every composition, even when the caller was
 * answered early by an abort or an attempt timeout; nested total bounds all apply.
 */
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush } from '../helpers/deferred.js'

/** Functions that ignore their signal and run for `ms`, counting how many run at once. */
function stubbornWork(clock: TestClock, ms: number) {
  let live = 0
  let peak = 0
  const fn = async () => {
    live++
    peak = Math.max(peak, live)
    try {
      await clock.sleep(ms) // no signal: it keeps running after its caller was answered
      return 'late'
    } finally {
      live--
    }
  }
  return { fn, live: () => live, peak: () => peak }
}

describe('R8 honest accounting in llmGuard', () => {
  it('R8 attempt timeouts never let more fns run than hardLimit; depth follows the live fns', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      backpressure: { hardLimit: 2, maxQueue: 100 },
      timeout: { attemptMs: 100 },
      retry: { maxAttempts: 3, baseDelayMs: 10, jitter: 'none' },
      circuit: { threshold: 1_000 },
    })
    const work = stubbornWork(clock, 1_000)
    const calls = Array.from({ length: 4 }, () => guard.execute(work.fn).catch((e: unknown) => e))
    for (let t = 0; t < 20_000; t += 50) {
      await clock.advance(50)
      expect(guard.backpressure!.depth).toBe(work.live())
      expect(work.live()).toBeLessThanOrEqual(2)
    }
    const outcomes = await Promise.all(calls)
    expect(outcomes.every((e) => e instanceof TimeoutError && e.kind === 'attempt')).toBe(true)
    expect(work.peak()).toBe(2)
    expect(guard.backpressure!.depth).toBe(0)
  })

  it('R8 a caller abort answers at once; the slot is freed when fn really settles', async () => {
    const guard = llmGuard({ clock: testClock() })
    const gate = deferred<string>()
    const controller = new AbortController()
    const call = guard.execute(() => gate.promise, { signal: controller.signal })
    await flush()
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(call).rejects.toBe(reason)
    expect(guard.backpressure!.depth).toBe(1)
    gate.resolve('too late')
    await flush()
    expect(guard.backpressure!.depth).toBe(0)
  })

  it('R8 a second probe never starts while the first one’s fn runs', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      retry: false,
      timeout: { attemptMs: 100 },
      circuit: { threshold: 1, recoveryMs: 1_000 },
    })
    await guard
      .execute(() => Promise.reject(Object.assign(new Error('down'), { status: 503 })))
      .catch(() => {})
    await clock.advance(1_000)
    expect(await guard.circuit!.state()).toBe('half-open')
    const work = stubbornWork(clock, 2_000)
    const probe = guard.execute(work.fn).catch((e: unknown) => e)
    await clock.advance(100)
    expect(await probe).toBeInstanceOf(TimeoutError)
    // The probe's caller was answered; its fn still runs, so the lease is still taken.
    for (let t = 0; t < 1_800; t += 100) {
      const other = await guard.execute(work.fn).catch((e: unknown) => e)
      expect(isBrokenCircuitError(other) && other.reason === 'half-open').toBe(true)
      await clock.advance(100)
    }
    expect(work.peak()).toBe(1)
    await clock.advance(200)
    // The probe's fn ended: its attempt timed out, so the breaker reopened.
    expect(work.live()).toBe(0)
    expect(await guard.circuit!.state()).toBe('open')
  })
})

describe('R8 in any composition', () => {
  it('R8 an outer backpressure waits for every attempt a retry inside left running', async () => {
    const clock = testClock()
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const guard = compose(
      backpressure,
      retryGuard({ maxAttempts: 2, baseDelayMs: 0, clock }),
      timeoutGuard({ attemptMs: 100, clock }),
    )
    const first = deferred<string>()
    let attempts = 0
    const call = guard.execute(() => (++attempts === 1 ? first.promise : 'second'))
    await clock.advance(100)
    expect(await call).toBe('second')
    // The first attempt's fn still runs: the slot is still taken.
    expect(backpressure.depth).toBe(1)
    first.resolve('first, late')
    await flush()
    expect(backpressure.depth).toBe(0)
  })

  it('R8 the breaker keeps a probe while an outer timeout answered its caller', async () => {
    const clock = testClock()
    const circuit = circuitGuard({ threshold: 1, recoveryMs: 1_000, clock })
    const guard = compose(timeoutGuard({ attemptMs: 100, clock }), circuit)
    await circuit
      .execute(() => Promise.reject(Object.assign(new Error('down'), { status: 503 })))
      .catch(() => {})
    await clock.advance(1_000)
    const gate = deferred<string>()
    const probe = guard.execute(() => gate.promise).catch((e: unknown) => e)
    await clock.advance(100)
    expect(await probe).toBeInstanceOf(TimeoutError)
    const refused = await guard.execute(() => 'second probe').catch((e: unknown) => e)
    expect(refused).toMatchObject({ reason: 'half-open' })
    gate.resolve('ok')
    await flush()
    expect(await circuit.state()).toBe('closed')
  })
})

describe('R8 nested total bounds', () => {
  it('R8 compose(totalMs 300, totalMs 40) settles at 40 ms', async () => {
    const clock = testClock()
    const guard = compose(timeoutGuard({ totalMs: 300, clock }), timeoutGuard({ totalMs: 40, clock }))
    const call = guard.execute(() => deferred().promise).catch((e: unknown) => e)
    await clock.advance(40)
    const error = await call
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ kind: 'total', timeoutMs: 40 })
  })

  it('R8 compose(llmGuard(), timeoutGuard({ totalMs: 40 })) settles at 40 ms', async () => {
    const clock = testClock()
    const guard = compose(llmGuard({ clock }), timeoutGuard({ totalMs: 40, clock }))
    const call = guard.execute(() => deferred().promise).catch((e: unknown) => e)
    await clock.advance(39)
    let settled = false
    void call.then(() => (settled = true))
    await flush()
    expect(settled).toBe(false)
    await clock.advance(1)
    expect(await call).toMatchObject({ kind: 'total', timeoutMs: 40 })
  })

  it('R8 an inner bound looser than the outer one changes nothing', async () => {
    const clock = testClock()
    const guard = compose(timeoutGuard({ totalMs: 40, clock }), timeoutGuard({ totalMs: 300, clock }))
    const call = guard.execute(() => deferred().promise).catch((e: unknown) => e)
    await clock.advance(40)
    expect(await call).toMatchObject({ kind: 'total', timeoutMs: 40 })
    expect(clock.pending).toBe(0)
  })
})
