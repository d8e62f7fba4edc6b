import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CallContext } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush } from '../helpers/deferred.js'

describe('T1 timeouts in a composition', () => {
  it('T1 totalMs counts the time queued before the first attempt', async () => {
    const clock = testClock()
    const backpressure = backpressureGuard({ hardLimit: 1, maxQueue: 5, queueTimeoutMs: 30_000, clock })
    const guard = compose(backpressure, timeoutGuard({ totalMs: 1_000, clock }))
    const first = deferred<string>()
    const busy = backpressure.execute(() => first.promise) // takes the only slot, with no bound of its own
    let ran = false
    const queued = guard.execute(() => void (ran = true)).catch((e: unknown) => e)
    await clock.advance(1_000)
    expect(await queued).toMatchObject({ kind: 'total' })
    expect(ran).toBe(false)
    expect(backpressure.queued).toBe(0)
    first.resolve('done')
    await busy
    expect(clock.pending).toBe(0)
  })

  it('T1 an fn that holds and then fails leaves no timer and no listener behind', async () => {
    const clock = testClock()
    const guard = compose(timeoutGuard({ totalMs: 300_000, idleMs: 1_000, clock }))
    const controller = new AbortController()
    let listeners = 0
    const signal = controller.signal
    const add = signal.addEventListener.bind(signal)
    const remove = signal.removeEventListener.bind(signal)
    signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (
      listeners--,
      remove(...args)
    )) as typeof remove
    const call = guard.execute(
      (ctx) => {
        ctx.hold(new Promise(() => {}))
        throw new Error('the wrapper failed after holding')
      },
      { signal },
    )
    await expect(call).rejects.toThrow('the wrapper failed after holding')
    await flush()
    expect(clock.pending).toBe(0)
    expect(listeners).toBe(0)
  })

  it('T1 nested idle bounds both hear every chunk', async () => {
    const clock = testClock()
    const guard = compose(
      timeoutGuard({ idleMs: 60_000, clock }),
      llmGuard({ clock, timeout: { idleMs: 1_000 } }),
    )
    const end = deferred<void>()
    let ctx!: CallContext
    let signal!: AbortSignal
    await guard.execute((c) => {
      ctx = c
      signal = c.signal
      c.hold(end.promise)
      return 'stream'
    })
    for (let i = 0; i < 10; i++) {
      await clock.advance(200)
      ctx.touch()
    }
    expect(signal.aborted).toBe(false)
    end.resolve()
    await flush()
    expect(clock.pending).toBe(0)
  })

  it('T1 C5 an idle timeout on a held call surfaces as TimeoutError(idle) and counts as a breaker failure', async () => {
    const clock = testClock()
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 10_000, clock })
    const outcomes: string[] = []
    breaker.onOutcome((e) => outcomes.push(e.outcome))
    const guard = compose(breaker, timeoutGuard({ idleMs: 100, clock }))
    let streamEnd!: Promise<void>
    await guard.execute((ctx) => {
      const signal = ctx.signal
      // A stream that fails with the usual AbortError when its signal aborts.
      streamEnd = new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )
      streamEnd.catch(() => {})
      ctx.hold(streamEnd)
      return 'stream'
    })
    await clock.advance(100)
    await flush()
    expect(outcomes).toEqual(['failure'])
    expect(await breaker.state()).toBe('open')
  })

  it('C5 K2 a caller abort that carries a TimeoutError is still the caller leaving: ignored', async () => {
    const clock = testClock()
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 10_000, clock })
    const guard = compose(breaker, timeoutGuard({ totalMs: 60_000, clock }))
    const controller = new AbortController()
    const call = guard.execute(
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      { signal: controller.signal },
    )
    controller.abort(new TimeoutError('total', 120_000))
    await call.catch(() => {})
    await flush()
    expect(await breaker.state()).toBe('closed')
    expect(await breaker.failureCount()).toBe(0)
  })

  it('C5 the chain own total timeout running out is a failure', async () => {
    const clock = testClock()
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 10_000, clock })
    const guard = compose(breaker, timeoutGuard({ totalMs: 100, clock }))
    const call = guard.execute(() => new Promise(() => {})).catch((e: unknown) => e)
    await clock.advance(100)
    expect(await call).toMatchObject({ kind: 'total' })
    await flush()
    expect(await breaker.state()).toBe('open')
  })
})
