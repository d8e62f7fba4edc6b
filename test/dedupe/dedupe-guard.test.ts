import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { CallContext, Priority } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import {
  BackpressureShedError,
  isBackpressureShedError,
} from '../../src/core/errors/backpressure-shed-error.js'
import { BrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { GuardBase, RUN, type Next } from '../../src/core/guard.js'
import type { ExecutionContext } from '../../src/core/context.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import type { DedupeEvent } from '../../src/dedupe/dedupe-options.js'
import { testClock } from '../../src/testing/test-clock.js'
import { upstream } from './upstream-fixture.js'
import { deferred, flush } from '../helpers/deferred.js'

/** A guard that rejects its first `times` calls with `error`, recording the priority each call had. */
class RejectFirst extends GuardBase {
  readonly name = 'reject-first'
  readonly seen: Priority[] = []
  constructor(
    private times: number,
    private readonly error: () => unknown,
  ) {
    super()
  }
  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    this.seen.push(ctx.priority)
    if (this.times-- > 0) return Promise.reject(this.error())
    return next(ctx)
  }
}

describe('U1 coalescing', () => {
  it('U1 50 concurrent identical calls make one upstream call and all get its result', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const { calls, fn } = upstream<{ answer: string }>()
    const results = Array.from({ length: 50 }, () => guard.execute(fn, { key: 'same' }))
    await flush()
    expect(calls).toHaveLength(1)
    calls[0]!.done.resolve({ answer: 'forty-two' })
    const values = await Promise.all(results)
    expect(new Set(values).size).toBe(1)
    expect(values[0]).toEqual({ answer: 'forty-two' })
    expect(calls).toHaveLength(1)
  })

  it('U1 shared results are deep-frozen, so no caller can change what another sees', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const a = guard.execute(() => ({ choices: [{ text: 'hi' }] }), { key: 'k' })
    const b = guard.execute(() => ({ choices: [{ text: 'other' }] }), { key: 'k' })
    const [va, vb] = await Promise.all([a, b])
    expect(vb).toBe(va)
    expect(Object.isFrozen(va)).toBe(true)
    expect(Object.isFrozen(va.choices[0])).toBe(true)
    expect(() => {
      ;(va.choices[0] as { text: string }).text = 'changed'
    }).toThrow(TypeError)
  })

  it('U1 the key option derives a key when the call gives none; the call key wins', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, key: (call) => call.service, clock: testClock() })
    let upstreamCalls = 0
    const fn = (): number => ++upstreamCalls
    await Promise.all([
      guard.execute(fn, { service: 's1' }),
      guard.execute(fn, { service: 's1' }),
      guard.execute(fn, { service: 's1', key: 'explicit' }),
    ])
    expect(upstreamCalls).toBe(2)
  })
})

describe('U2 result cache', () => {
  it('U2 a result is served for ttlMs by the injected clock, then a new call is made', async () => {
    const clock = testClock()
    const guard = dedupeGuard({ ttlMs: 100, clock })
    let upstreamCalls = 0
    const fn = (): number => ++upstreamCalls
    expect(await guard.execute(fn, { key: 'k' })).toBe(1)
    await clock.advance(100)
    expect(await guard.execute(fn, { key: 'k' })).toBe(1)
    await clock.advance(1)
    expect(await guard.execute(fn, { key: 'k' })).toBe(2)
    expect(upstreamCalls).toBe(2)
  })

  it('U2 eviction by maxEntries never aborts a call in flight', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, maxEntries: 1, clock: testClock() })
    const { calls, fn } = upstream<string>()
    const running = guard.execute(fn, { key: 'running' })
    await guard.execute(() => 'b', { key: 'b' })
    await guard.execute(() => 'c', { key: 'c' }) // evicts b: the cache holds one entry
    expect(guard.size).toBe(2) // c kept + one call in flight
    expect(calls[0]!.ctx.signal.aborted).toBe(false)
    const joined = guard.execute(fn, { key: 'running' })
    calls[0]!.done.resolve('done')
    expect(await running).toBe('done')
    expect(await joined).toBe('done')
    expect(calls).toHaveLength(1)
  })

  it('U2 maxBytes bounds kept results; a result too large is delivered but not kept', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, maxBytes: 200, clock: testClock() })
    let upstreamCalls = 0
    const big = (): string => (upstreamCalls++, 'x'.repeat(500))
    expect(await guard.execute(big, { key: 'big' })).toHaveLength(500)
    expect(await guard.execute(big, { key: 'big' })).toHaveLength(500)
    expect(upstreamCalls).toBe(2)
    const small = (): string => (upstreamCalls++, 'y')
    await guard.execute(small, { key: 'small' })
    await guard.execute(small, { key: 'small' })
    expect(upstreamCalls).toBe(3)
  })
})

describe('U3 errors and local rejections', () => {
  it('U3 errors are never cached: waiters of a failed leader get the error, the next call is new', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const { calls, fn } = upstream<string>()
    const a = guard.execute(fn, { key: 'k' })
    const b = guard.execute(fn, { key: 'k' })
    const boom = new Error('upstream 500')
    calls[0]!.done.reject(boom)
    await expect(a).rejects.toBe(boom)
    await expect(b).rejects.toBe(boom)
    const c = guard.execute(fn, { key: 'k' })
    await flush()
    expect(calls).toHaveLength(2)
    calls[1]!.done.resolve('ok')
    expect(await c).toBe('ok')
  })

  it('U3 a foreground waiter joined to a background leader that is shed still gets a result', async () => {
    const backpressure = backpressureGuard({ hardLimit: 2, softLimit: 1, softAction: 'shed-background' })
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock: testClock() }), backpressure)
    const blocker = deferred<string>()
    const busy = guard.execute(() => blocker.promise) // depth 1 = the soft limit
    const { calls, fn } = upstream<string>()
    const leader = guard.execute(fn, { key: 'k', priority: 'background' })
    const waiter = guard.execute(fn, { key: 'k', priority: 'foreground' })
    const leaderError = await leader.catch((e: unknown) => e)
    expect(isBackpressureShedError(leaderError)).toBe(true)
    expect((leaderError as BackpressureShedError).reason).toBe('soft_limit')
    await flush()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.ctx.priority).toBe('foreground')
    calls[0]!.done.resolve('answer')
    expect(await waiter).toBe('answer')
    blocker.resolve('x')
    await busy
    expect(backpressure.depth).toBe(0)
  })

  it('U3 the new leader runs at the highest priority among the remaining waiters', async () => {
    const shedOnce = new RejectFirst(
      1,
      () => new BackpressureShedError({ depth: 1, capacity: 1, reason: 'soft_limit' }),
    )
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock: testClock() }), shedOnce)
    const seenFn: string[] = []
    const a = guard.execute(() => (seenFn.push('a'), 'a'), { key: 'k', priority: 'background' })
    const c = guard.execute(() => (seenFn.push('c'), 'c'), { key: 'k', priority: 'background' })
    const b = guard.execute(() => (seenFn.push('b'), 'b'), { key: 'k', priority: 'foreground' })
    await expect(a).rejects.toSatisfy(isBackpressureShedError)
    // c is the first remaining waiter, so its function runs, at b's foreground priority.
    expect(await c).toBe('c')
    expect(await b).toBe('c')
    expect(seenFn).toEqual(['c'])
    expect(shedOnce.seen).toEqual(['background', 'foreground'])
  })

  it('U3 a broken circuit rejects only the leader; the next waiter tries again', async () => {
    const open = new RejectFirst(1, () => new BrokenCircuitError('svc', 0))
    const guard = compose(dedupeGuard({ ttlMs: 1000, clock: testClock() }), open)
    const a = guard.execute(() => 'a', { key: 'k' })
    const b = guard.execute(() => 'b', { key: 'k' })
    await expect(a).rejects.toBeInstanceOf(BrokenCircuitError)
    expect(await b).toBe('b')
  })

  it("U3 the leader's own abort is not shared: the others still get the result", async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const { calls, fn } = upstream<string>()
    const leaderAbort = new AbortController()
    const leader = guard.execute(fn, { key: 'k', signal: leaderAbort.signal })
    const waiter = guard.execute(fn, { key: 'k' })
    const reason = new Error('leader gave up')
    leaderAbort.abort(reason)
    await expect(leader).rejects.toBe(reason)
    expect(calls[0]!.ctx.signal.aborted).toBe(false)
    calls[0]!.done.resolve('shared')
    expect(await waiter).toBe('shared')
    expect(calls).toHaveLength(1)
  })
})

describe('U4 aborts', () => {
  it('U4 one waiter aborting rejects only that waiter; the upstream call is aborted when the last leaves', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const { calls, fn } = upstream<string>()
    const aborts = [new AbortController(), new AbortController()]
    const [a, b] = aborts.map((c) => guard.execute(fn, { key: 'k', signal: c.signal }))
    await flush()
    const upstreamSignal = calls[0]!.ctx.signal
    expect(upstreamSignal).not.toBe(aborts[0]!.signal)
    aborts[1]!.abort(new Error('b left'))
    await expect(b!).rejects.toThrow('b left')
    expect(upstreamSignal.aborted).toBe(false)
    aborts[0]!.abort(new Error('a left'))
    await expect(a!).rejects.toThrow('a left')
    expect(upstreamSignal.aborted).toBe(true)
    calls[0]!.done.reject(upstreamSignal.reason)
    // The torn-down call is gone: the same key starts a new one.
    const c = guard.execute(fn, { key: 'k' })
    await flush()
    expect(calls).toHaveLength(2)
    calls[1]!.done.resolve('fresh')
    expect(await c).toBe('fresh')
    expect(guard.size).toBe(1)
  })
})

describe('U5 calls without a key', () => {
  it('U5 calls without a key pass straight through, each to its own call, untouched', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const seen: CallContext[] = []
    const value = { mutable: true }
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        guard.execute((ctx) => {
          seen.push(ctx)
          return value
        }),
      ),
    )
    expect(seen).toHaveLength(3)
    expect(new Set(seen).size).toBe(3)
    expect(Object.isFrozen(results[0])).toBe(false)
    expect(guard.size).toBe(0)
  })
})

describe('held calls', () => {
  it('a held (streamed) keyed call goes to its leader alone; the other waiters run their own', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const ends: ReturnType<typeof deferred<void>>[] = []
    let n = 0
    const stream = (ctx: CallContext): string => {
      const end = deferred<void>()
      ends.push(end)
      ctx.hold(end.promise)
      return `stream-${++n}`
    }
    const [a, b] = await Promise.all([
      guard.execute(stream, { key: 'k' }),
      guard.execute(stream, { key: 'k' }),
    ])
    expect([a, b]).toEqual(['stream-1', 'stream-2'])
    for (const end of ends) end.resolve()
    await flush()
    expect(guard.size).toBe(0) // a held result is never cached
  })

  it('a held call handed to its leader is still stopped when the leader aborts while reading it', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, clock: testClock() })
    const abort = new AbortController()
    const end = deferred<void>()
    let upstreamSignal: AbortSignal | undefined
    const value = await guard.execute(
      (ctx) => {
        upstreamSignal = ctx.signal
        ctx.hold(end.promise)
        return 'stream'
      },
      { key: 'k', signal: abort.signal },
    )
    expect(value).toBe('stream')
    expect(upstreamSignal!.aborted).toBe(false)
    abort.abort(new Error('reader left'))
    expect(upstreamSignal!.aborted).toBe(true)
    end.resolve()
  })
})

describe('manual API and events', () => {
  it('U2 check claims an unknown key, complete caches, abandon releases, claims expire after ttlMs', async () => {
    const clock = testClock()
    const guard = dedupeGuard({ ttlMs: 50, clock })
    expect(guard.check('k')).toEqual({ status: 'new' })
    expect(guard.check('k')).toEqual({ status: 'in-progress' })
    guard.complete('k', { v: 1 })
    const cached = guard.check('k')
    expect(cached).toEqual({ status: 'cached', value: { v: 1 } })
    expect(Object.isFrozen((cached as { value: object }).value)).toBe(true)
    expect(guard.check('j').status).toBe('new')
    guard.abandon('j')
    expect(guard.check('j').status).toBe('new')
    expect(guard.size).toBe(2)
    await clock.advance(51)
    expect(guard.size).toBe(0)
    expect(guard.check('j').status).toBe('new') // the old claim expired
  })

  it('onDedupe reports new, joined and cached without the key', async () => {
    const guard = dedupeGuard({ ttlMs: 1000, service: 'svc', clock: testClock() })
    const events: DedupeEvent[] = []
    guard.onDedupe((e) => events.push(e))
    await Promise.all([
      guard.execute(() => 1, { key: 'secret-key' }),
      guard.execute(() => 1, { key: 'secret-key' }),
    ])
    await guard.execute(() => 1, { key: 'secret-key', service: 'other' })
    await guard.execute(() => 1)
    expect(events).toEqual([
      { result: 'new', service: 'svc' },
      { result: 'joined', service: 'svc' },
      { result: 'cached', service: 'other' },
    ])
    expect(JSON.stringify(events)).not.toContain('secret-key')
  })
})
