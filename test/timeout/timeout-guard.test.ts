import { describe, expect, it } from 'vitest'
import { compose } from '../../src/core/compose.js'
import { isTimeoutError, TimeoutError } from '../../src/core/errors/timeout-error.js'
import type { CallContext } from '../../src/core/call-options.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

const never = (): Promise<never> => new Promise(() => {})

describe('T1 timeout guard', () => {
  it('T1 attemptMs aborts ctx.signal with TimeoutError(attempt) and rejects at once, even if fn ignores the signal', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ attemptMs: 100, clock })
    let seen: AbortSignal | undefined
    const call = guard.execute((ctx) => {
      seen = ctx.signal
      return never()
    })
    const settled = call.catch((e: unknown) => e)
    await clock.advance(99)
    expect(seen!.aborted).toBe(false)
    await clock.advance(1)
    const error = await settled
    expect(isTimeoutError(error)).toBe(true)
    expect((error as TimeoutError).kind).toBe('attempt')
    expect(seen!.aborted).toBe(true)
    expect(seen!.reason).toBe(error)
  })

  it('T1 an attempt timeout is retryable: the next attempt gets a fresh bound', async () => {
    const clock = testClock()
    const guard = compose(
      retryGuard({ maxAttempts: 2, baseDelayMs: 10, jitter: 'none', clock }),
      timeoutGuard({ attemptMs: 100, clock }),
    )
    let calls = 0
    const call = guard.execute(() => (++calls === 1 ? never() : 'second'))
    await clock.advance(100)
    await clock.advance(10)
    expect(await call).toBe('second')
    expect(calls).toBe(2)
    expect(clock.pending).toBe(0)
  })

  it('T1 the SDK abort error is replaced by the TimeoutError that caused it', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ attemptMs: 5, clock })
    const call = guard.execute(
      (ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
    )
    const settled = call.catch((e: unknown) => e)
    await clock.advance(5)
    expect((await settled) as TimeoutError).toMatchObject({ kind: 'attempt', timeoutMs: 5 })
  })

  it('T1 totalMs bounds the whole call including retries and is not retryable', async () => {
    const clock = testClock()
    const guard = compose(
      retryGuard({ maxAttempts: 10, baseDelayMs: 50, jitter: 'none', clock }),
      timeoutGuard({ totalMs: 300, clock }),
    )
    let calls = 0
    const call = guard.execute(() => {
      calls++
      return calls === 1 ? Promise.reject(httpError(503)) : never()
    })
    const settled = call.catch((e: unknown) => e)
    await clock.advance(299)
    expect(calls).toBe(2)
    await clock.advance(1)
    expect(await settled).toMatchObject({ kind: 'total', timeoutMs: 300 })
    expect(calls).toBe(2)
    expect(clock.pending).toBe(0)
  })

  it('T1 retry gives up instead of sleeping past the total deadline', async () => {
    const clock = testClock()
    const guard = compose(
      retryGuard({ maxAttempts: 3, baseDelayMs: 100, jitter: 'none', clock }),
      timeoutGuard({ totalMs: 1_000, attemptMs: 950, clock }),
    )
    let calls = 0
    // The attempt fails 920 ms in: the 100 ms backoff would end past the 1 000 ms deadline, so retry
    // gives up at once and the caller sees the provider's error instead of a later TimeoutError.
    const call = guard.execute(() => {
      calls++
      return new Promise((_, reject) => {
        void clock.sleep(920).then(() => reject(httpError(503)))
      })
    })
    const settled = call.catch((e: unknown) => e)
    await clock.advance(920)
    expect(await settled).toMatchObject({ status: 503 })
    expect(calls).toBe(1)
    expect(clock.pending).toBe(0)
  })

  it('T1 idleMs aborts a held call whose chunks stop, and each touch restarts the gap', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ idleMs: 100, clock })
    const streamEnded = deferred()
    let ctxSeen!: CallContext
    let signal!: AbortSignal
    const value = await guard.execute((ctx) => {
      ctxSeen = ctx
      signal = ctx.signal
      signal.addEventListener('abort', () => streamEnded.reject(signal.reason))
      ctx.hold(streamEnded.promise)
      return 'stream'
    })
    expect(value).toBe('stream')
    await clock.advance(80)
    ctxSeen.touch()
    await clock.advance(80)
    ctxSeen.touch()
    await clock.advance(99)
    expect(signal.aborted).toBe(false)
    await clock.advance(1)
    expect(signal.aborted).toBe(true)
    await expect(streamEnded.promise).rejects.toMatchObject({ kind: 'idle', timeoutMs: 100 })
    expect(clock.pending).toBe(0)
  })

  it('T1 an idle bound fires on fractional clock readings (a sub-ulp remainder never re-arms forever)', async () => {
    // At this start time, (start + 500) - start is 499.99999999999994: the gap left is smaller than
    // the clock can add, so re-arming for it would fire at the same instant again and again.
    const clock = testClock(155.16731664261948)
    const guard = timeoutGuard({ idleMs: 500, clock })
    const stream = deferred()
    let signal: AbortSignal | undefined
    await guard.execute((ctx) => {
      signal = ctx.signal
      ctx.hold(stream.promise)
      return 'first chunk'
    })
    await clock.advance(501)
    expect(signal!.reason).toMatchObject({ kind: 'idle' })
    stream.resolve()
  })

  it('T1 the idle timer stops when the hold settles', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ idleMs: 100, totalMs: 1_000, clock })
    const streamEnded = deferred()
    await guard.execute((ctx) => {
      ctx.hold(streamEnded.promise)
      return 'stream'
    })
    expect(clock.pending).toBe(2)
    streamEnded.resolve()
    await flush()
    expect(clock.pending).toBe(0)
  })

  it('T1 the total timeout covers a held stream until it ends', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ totalMs: 500, clock })
    const streamEnded = deferred()
    let signal!: AbortSignal
    await guard.execute((ctx) => {
      signal = ctx.signal
      ctx.hold(streamEnded.promise)
      return 'stream'
    })
    await clock.advance(500)
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toMatchObject({ kind: 'total' })
    streamEnded.resolve()
  })

  it('T1 no timer and no AbortController exist when no bound is set', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ clock })
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    await guard.execute(
      (ctx) => {
        seen = ctx.signal
        expect(clock.pending).toBe(0)
      },
      { signal: controller.signal },
    )
    expect(seen).toBe(controller.signal)
  })

  it('T1 timers are cancelled when the attempt settles, and the signal is not aborted because the call returned', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ attemptMs: 100, totalMs: 1_000, clock })
    let seen!: AbortSignal
    await guard.execute((ctx) => {
      seen = ctx.signal
      expect(clock.pending).toBe(2)
      return 1
    })
    expect(clock.pending).toBe(0)
    expect(seen.aborted).toBe(false)
  })

  it('T1 a caller abort rejects at once with the caller reason', async () => {
    const clock = testClock()
    const guard = timeoutGuard({ attemptMs: 1_000, clock })
    const controller = new AbortController()
    const call = guard.execute(() => never(), { signal: controller.signal })
    const reason = new Error('user left')
    controller.abort(reason)
    await expect(call).rejects.toBe(reason)
    expect(clock.pending).toBe(0)
  })
})
