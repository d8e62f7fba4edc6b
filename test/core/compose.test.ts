import { describe, expect, it } from 'vitest'
import type { CallContext, CallOptions } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import type { Guard } from '../../src/core/guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

/** A guard written outside breakwater (only `execute`), recording what it sees. */
function recorder(name: string, log: string[], seen: CallOptions[] = []): Guard {
  return {
    name,
    async execute(fn, call) {
      log.push(`enter ${name}`)
      seen.push({ ...call })
      const controller = new AbortController()
      try {
        return await fn({
          signal: controller.signal,
          service: call?.service ?? 'default',
          cost: call?.cost ?? 1,
          priority: call?.priority ?? 'foreground',
          attempt: 1,
          hold() {},
          touch() {},
        })
      } finally {
        log.push(`exit ${name}`)
      }
    },
  }
}

describe('compose', () => {
  it('runs the first guard outermost and exposes .guards', async () => {
    const log: string[] = []
    const a = recorder('a', log)
    const b = recorder('b', log)
    const guard = compose(a, b)
    expect(guard.guards).toEqual([a, b])
    expect(await guard.execute(() => (log.push('fn'), 42))).toBe(42)
    expect(log).toEqual(['enter a', 'enter b', 'fn', 'exit b', 'exit a'])
  })

  it('threads per-call data (service, key, cost, priority) to every layer and to fn', async () => {
    const seen: CallOptions[] = []
    const guard = compose(recorder('a', [], seen), retryGuard({ maxAttempts: 1 }), recorder('b', [], seen))
    let ctxSeen: CallContext | undefined
    await guard.execute((ctx) => void (ctxSeen = ctx), {
      service: 's',
      key: 'k',
      cost: 7,
      priority: 'background',
    })
    for (const call of seen)
      expect(call).toMatchObject({ service: 's', key: 'k', cost: 7, priority: 'background' })
    expect(ctxSeen).toMatchObject({ service: 's', key: 'k', cost: 7, priority: 'background', attempt: 1 })
  })

  it('gives fn the same context object on every attempt (one context per call)', async () => {
    const guard = compose(retryGuard({ maxAttempts: 3, baseDelayMs: 0 }), timeoutGuard({}))
    const contexts: CallContext[] = []
    const attempts: number[] = []
    await guard.execute((ctx) => {
      contexts.push(ctx)
      attempts.push(ctx.attempt)
      return attempts.length < 3 ? Promise.reject(httpError(503)) : 'ok'
    })
    expect(new Set(contexts).size).toBe(1)
    expect(attempts).toEqual([1, 2, 3])
  })

  it('shares one never-aborted signal between calls that pass none', async () => {
    const guard = compose(retryGuard({ maxAttempts: 1 }))
    const signals: AbortSignal[] = []
    await guard.execute((ctx) => void signals.push(ctx.signal))
    await guard.execute((ctx) => void signals.push(ctx.signal))
    expect(signals[0]).toBe(signals[1])
    expect(signals[0]!.aborted).toBe(false)
  })

  it('never aborts the signal merely because a guard returned', async () => {
    const clock = testClock()
    const guard = compose(
      retryGuard({ maxAttempts: 2 }),
      timeoutGuard({ attemptMs: 100, totalMs: 500, clock }),
    )
    let signal!: AbortSignal
    await guard.execute((ctx) => void (signal = ctx.signal))
    await clock.advance(1_000)
    expect(signal.aborted).toBe(false)
  })

  it('adopts the signal a foreign guard hands out, and restores the caller signal after', async () => {
    const outer = new AbortController()
    let inner: AbortSignal | undefined
    const guard = compose(recorder('foreign', []))
    await guard.execute((ctx) => void (inner = ctx.signal), { signal: outer.signal })
    expect(inner).toBeDefined()
    expect(inner).not.toBe(outer.signal)
  })

  it('service precedence: the call option, else the guard option, else "default"', async () => {
    const services: string[] = []
    const retry = retryGuard({ maxAttempts: 2, baseDelayMs: 0, service: 'own' })
    retry.onRetry((e) => services.push(e.service))
    const bare = retryGuard({ maxAttempts: 2, baseDelayMs: 0 })
    bare.onRetry((e) => services.push(e.service))
    const flaky = () => {
      let n = 0
      return () => (n++ === 0 ? Promise.reject(httpError(500)) : 'ok')
    }
    await retry.execute(flaky(), { service: 'call' })
    await retry.execute(flaky())
    await bare.execute(flaky())
    expect(services).toEqual(['call', 'own', 'default'])
  })

  it('flattens nested compositions and keeps their order', async () => {
    const log: string[] = []
    const guard = compose(recorder('a', log), compose(recorder('b', log), recorder('c', log)))
    await guard.execute(() => void log.push('fn'))
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'fn', 'exit c', 'exit b', 'exit a'])
  })

  it('an empty composition calls fn directly', async () => {
    expect(await compose().execute(() => 'direct')).toBe('direct')
  })

  it('rejects, without calling fn, when the caller signal is already aborted', async () => {
    const controller = new AbortController()
    const reason = new Error('gone')
    controller.abort(reason)
    let called = false
    await expect(
      compose(retryGuard({ maxAttempts: 3 })).execute(() => void (called = true), {
        signal: controller.signal,
      }),
    ).rejects.toBe(reason)
    expect(called).toBe(false)
  })

  it('rejects invalid call options with a typed error naming the option', async () => {
    const guard = compose(retryGuard({ maxAttempts: 1 }))
    await expect(guard.execute(() => 1, { cost: -1 })).rejects.toThrow(RangeError)
    await expect(guard.execute(() => 1, { cost: -1 })).rejects.toThrow(/"cost".*-1/)
    await expect(guard.execute(() => 1, { priority: 'urgent' as never })).rejects.toThrow(
      /"priority".*urgent/,
    )
    await expect(guard.execute(() => 1, { signal: {} as AbortSignal })).rejects.toThrow(TypeError)
    await expect(guard.execute(42 as never)).rejects.toThrow(/fn must be a function/)
  })

  it.each([
    ['null', null, /call options must be an object or undefined, got null/],
    ['a number', 5, /call options must be an object or undefined, got 5/],
    ['a string', 'x', /call options must be an object or undefined, got "x"/],
  ])('rejects call options that are %s with a TypeError naming the argument', async (_, call, message) => {
    let ran = false
    const error = await compose(retryGuard({ maxAttempts: 1 }))
      .execute(() => (ran = true), call as never)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(message)
    expect(ran).toBe(false)
  })

  it('a cost given as a string is a TypeError that says it got a string', async () => {
    const error = await compose()
      .execute(() => 1, { cost: '3' as never })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/"cost" must be a finite number >= 0, got a string "3"/)
  })

  it('rejects something that is not a guard at construction', () => {
    expect(() => compose({} as Guard)).toThrow(/argument 0 must be a Guard/)
  })
})

describe('ctx.hold', () => {
  it('keeps a held call visible to the guards until it settles; holds are only accepted while fn runs', async () => {
    const clock = testClock()
    const guard = compose(timeoutGuard({ totalMs: 1_000, clock }))
    const stream = deferred()
    let late: CallContext | undefined
    await guard.execute((ctx) => {
      ctx.hold(stream.promise)
      late = ctx
      return 'stream'
    })
    // The total timer keeps running while the hold is open...
    expect(clock.pending).toBe(1)
    expect(() => late!.hold(Promise.resolve())).toThrow(/must be called while fn runs/)
    stream.resolve()
    await flush()
    // ...and ends with it.
    expect(clock.pending).toBe(0)
  })

  it('a rejected hold is never reported as unhandled', async () => {
    const guard = compose(timeoutGuard({ idleMs: 1_000, clock: testClock() }))
    const stream = deferred()
    await guard.execute((ctx) => {
      ctx.hold(stream.promise)
      return 'stream'
    })
    stream.reject(new Error('stream broke'))
    await flush()
  })

  it('rejects a hold of something that is not a promise', async () => {
    await expect(compose().execute((ctx) => ctx.hold(42 as never))).rejects.toThrow(/expects a promise/)
  })
})
