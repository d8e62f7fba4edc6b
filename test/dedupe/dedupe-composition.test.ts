import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { CallContext, Priority } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

describe('dedupe outermost in a chain', () => {
  it('U1 a joined waiter shares the whole retried call: one retry loop for all', async () => {
    const clock = testClock()
    const guard = compose(
      dedupeGuard({ ttlMs: 1000, clock }),
      retryGuard({ maxAttempts: 3, baseDelayMs: 10, jitter: 'none', clock }),
    )
    const attempts: number[] = []
    const fn = (ctx: CallContext): string => {
      attempts.push(ctx.attempt)
      if (ctx.attempt === 1) throw httpError(503)
      return 'recovered'
    }
    const a = guard.execute(fn, { key: 'k' })
    const b = guard.execute(fn, { key: 'k' })
    await clock.advance(10)
    expect(await a).toBe('recovered')
    expect(await b).toBe('recovered')
    expect(attempts).toEqual([1, 2])
  })

  it('U3 a foreground waiter joining a background call raises the priority of its later attempts', async () => {
    const clock = testClock()
    const guard = compose(
      dedupeGuard({ ttlMs: 1000, clock }),
      retryGuard({ maxAttempts: 2, baseDelayMs: 10, jitter: 'none', clock }),
    )
    const priorities: Priority[] = []
    const first = deferred<string>()
    const fn = (ctx: CallContext): Promise<string> | string => {
      priorities.push(ctx.priority)
      return ctx.attempt === 1 ? first.promise : 'second'
    }
    const background = guard.execute(fn, { key: 'k', priority: 'background' })
    await flush()
    const foreground = guard.execute(fn, { key: 'k', priority: 'foreground' })
    first.reject(httpError(503))
    await clock.advance(10)
    expect(await foreground).toBe('second')
    expect(await background).toBe('second')
    expect(priorities).toEqual(['background', 'foreground'])
  })

  it('U4 a total timeout bounds each waiter of a shared call, and its timers end with the call', async () => {
    const clock = testClock()
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock }), timeoutGuard({ totalMs: 100, clock }))
    const done = deferred<string>()
    const a = guard.execute(() => done.promise, { key: 'k' })
    const b = guard.execute(() => done.promise, { key: 'k' })
    await flush()
    // Each caller's bound starts when its call enters the chain.
    expect(clock.pending).toBe(2)
    done.resolve('in time')
    expect(await a).toBe('in time')
    expect(await b).toBe('in time')
    await flush()
    expect(clock.pending).toBe(0)
  })

  it('U4 T1 when the total bound runs out, every waiter gets TimeoutError(total) and the shared call is aborted', async () => {
    const clock = testClock()
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock }), timeoutGuard({ totalMs: 100, clock }))
    let upstream: AbortSignal | undefined
    const fn = (ctx: CallContext): Promise<never> => {
      upstream = ctx.signal
      return new Promise(() => {})
    }
    const a = guard.execute(fn, { key: 'k' }).catch((e: unknown) => e)
    const b = guard.execute(fn, { key: 'k' }).catch((e: unknown) => e)
    await clock.advance(100)
    expect(await a).toMatchObject({ kind: 'total' })
    expect(await b).toMatchObject({ kind: 'total' })
    expect(upstream?.aborted).toBe(true)
    expect(clock.pending).toBe(0)
  })

  it('B3 a held keyed call keeps its backpressure slot until the hold settles', async () => {
    const backpressure = backpressureGuard({ hardLimit: 2 })
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock: testClock() }), backpressure)
    const end = deferred<void>()
    const value = await guard.execute(
      (ctx) => {
        ctx.hold(end.promise)
        return 'stream'
      },
      { key: 'k' },
    )
    expect(value).toBe('stream')
    expect(backpressure.depth).toBe(1)
    end.resolve()
    await flush()
    expect(backpressure.depth).toBe(0)
  })

  it('a held keyed call reports stream activity to an idle timeout outside dedupe', async () => {
    const clock = testClock()
    const guard = compose(timeoutGuard({ idleMs: 50, clock }), dedupeGuard({ ttlMs: 1000, clock }))
    const end = deferred<void>()
    let reader: CallContext | undefined
    await guard.execute(
      (ctx) => {
        reader = ctx
        ctx.hold(end.promise)
        return 'stream'
      },
      { key: 'k' },
    )
    for (let i = 0; i < 3; i++) {
      await clock.advance(30)
      reader!.touch()
    }
    expect(reader!.signal.aborted).toBe(false)
    end.resolve()
    await flush()
    expect(clock.pending).toBe(0)
  })
})
