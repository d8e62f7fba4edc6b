/**
 * R8: a foreign guard (fromPolicy, or one with only `execute`) that settles first, passes no
 * signal, or calls fn with no context never breaks the layers inside it; the caller sees the error
 * that really ended the call.
 */
import { TaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { CallContext } from '../../src/core/call-options.js'
import { fromPolicy } from '../../src/core/cockatiel.js'
import { compose } from '../../src/core/compose.js'
import type { Guard } from '../../src/core/guard.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush } from '../helpers/deferred.js'

/** A guard from another library: only `name` and `execute`, calling fn however it likes. */
const foreign = (name: string, execute: Guard['execute']): Guard => ({ name, execute })

describe('R8 foreign guards', () => {
  it('R8 an aggressive cockatiel timeout that settles first: the caller sees its error, the slot waits for fn', async () => {
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const guard = compose(backpressure, fromPolicy(timeout(5, TimeoutStrategy.Aggressive)))
    const gate = deferred<string>()
    const error = await guard.execute(() => gate.promise).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TaskCancelledError)
    // The fn it gave up on still runs, so it still holds the only slot.
    expect(backpressure.depth).toBe(1)
    await expect(guard.execute(() => 'second')).rejects.toMatchObject({ reason: 'hard_limit' })
    gate.resolve('late')
    await flush()
    expect(backpressure.depth).toBe(0)
    expect(await guard.execute(() => 'third')).toBe('third')
  })

  it('R8 a cockatiel timeout that aborts its signal on return never cuts a held stream', async () => {
    const clock = testClock()
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const guard = compose(
      backpressure,
      fromPolicy(timeout(60_000, TimeoutStrategy.Cooperative)),
      timeoutGuard({ idleMs: 1_000, clock }),
    )
    const stream = deferred()
    let seen: AbortSignal | undefined
    expect(
      await guard.execute((ctx) => {
        seen = ctx.signal
        ctx.hold(stream.promise)
        return 'first chunk'
      }),
    ).toBe('first chunk')
    await flush()
    // cockatiel aborted its own signal when it returned; the stream's signal is untouched.
    expect(seen!.aborted).toBe(false)
    expect(backpressure.depth).toBe(1)
    stream.resolve()
    await flush()
    expect(backpressure.depth).toBe(0)
  })

  it('R8 a guard that calls fn() with no context never breaks the layers inside it', async () => {
    const clock = testClock()
    const bare = foreign('bare', (fn) => Promise.resolve((fn as () => unknown)()) as never)
    const guard = compose(backpressureGuard({ hardLimit: 2 }), bare, timeoutGuard({ attemptMs: 100, clock }))
    expect(await guard.execute((ctx) => `aborted: ${ctx.signal.aborted}`)).toBe('aborted: false')
    const call = guard.execute(() => deferred().promise).catch((e: unknown) => e)
    await clock.advance(100)
    expect(await call).toMatchObject({ kind: 'attempt' })
  })

  it('R8 a guard that passes a context without a signal never breaks the layers inside it', async () => {
    const clock = testClock()
    const noSignal = foreign('no-signal', (fn) => Promise.resolve(fn({} as CallContext)) as never)
    const controller = new AbortController()
    const guard = compose(noSignal, timeoutGuard({ attemptMs: 100, clock }))
    let inner: AbortSignal | undefined
    const call = guard.execute(
      (ctx) => {
        inner = ctx.signal
        return deferred().promise
      },
      { signal: controller.signal },
    )
    await flush()
    const reason = new Error('caller left')
    controller.abort(reason)
    await expect(call).rejects.toBe(reason)
    // The caller's abort still reached fn through the layers inside.
    expect(inner!.aborted).toBe(true)
  })

  it('R8 a guard that settles first with its own error: that error reaches the caller, accounting waits', async () => {
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const impatient = foreign('impatient', (fn) => {
      const running = Promise.resolve(fn({ signal: new AbortController().signal } as CallContext))
      running.catch(() => {})
      return Promise.reject(new Error('gave up first')) as never
    })
    const clock = testClock()
    const guard = compose(backpressure, impatient, timeoutGuard({ attemptMs: 100, clock }))
    const gate = deferred<string>()
    await expect(guard.execute(() => gate.promise)).rejects.toThrow('gave up first')
    expect(backpressure.depth).toBe(1)
    gate.resolve('late')
    await flush()
    expect(backpressure.depth).toBe(0)
    expect(clock.pending).toBe(0)
  })

  it('R8 an attempt timeout inside a foreign layer still surfaces as our TimeoutError', async () => {
    const clock = testClock()
    const passthrough = foreign('pass', (fn, call) => Promise.resolve(fn(call as never)) as never)
    const guard = compose(passthrough, timeoutGuard({ attemptMs: 50, clock }))
    const call = guard.execute(() => deferred().promise).catch((e: unknown) => e)
    await clock.advance(50)
    expect(await call).toBeInstanceOf(TimeoutError)
  })
})
