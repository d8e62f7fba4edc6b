/**
 * A keyed call whose caller gave no signal leads its flight on a fast path (no controller, no
 * context of its own, its own promise): these pin down that the path keeps U1–U4.
 */
import { describe, expect, it } from 'vitest'
import type { CallContext } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import { BackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import type { ExecutionContext } from '../../src/core/context.js'
import { GuardBase, RUN, type Next } from '../../src/core/guard.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { upstream } from './upstream-fixture.js'
import { flush, httpError } from '../helpers/deferred.js'

/** Sheds the first call it sees, then lets calls through. */
class ShedFirst extends GuardBase {
  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    if (this.shed) return next(ctx)
    this.shed = true
    return Promise.reject(new BackpressureShedError({ depth: 1, capacity: 1, reason: 'hard_limit' }))
  }

  readonly name = 'shed-first'
  private shed = false
}

describe('a leader without a signal', () => {
  it('U4 joiners that abort leave alone; the leader cannot leave, so the upstream call is never aborted', async () => {
    const guard = dedupeGuard({ ttlMs: 0 })
    const { calls, fn } = upstream<{ answer: number }>()
    const leader = guard.execute(fn, { key: 'k' })
    const aborts = [new AbortController(), new AbortController()]
    const joiners = aborts.map((c) => guard.execute(fn, { key: 'k', signal: c.signal }))
    await flush()
    for (const [i, c] of aborts.entries()) c.abort(new Error(`joiner ${i} left`))
    await expect(joiners[0]).rejects.toThrow('joiner 0 left')
    await expect(joiners[1]).rejects.toThrow('joiner 1 left')
    expect(calls).toHaveLength(1)
    expect(calls[0]!.ctx.signal.aborted).toBe(false)
    expect(guard.size).toBe(1) // still wanted by its leader
    calls[0]!.done.resolve({ answer: 42 })
    expect(await leader).toEqual({ answer: 42 })
  })

  it('U1 leader and joiners get the same frozen object, and the flight is over before the leader resumes', async () => {
    const guard = dedupeGuard({ ttlMs: 0 })
    const { calls, fn } = upstream<{ nested: { n: number } }>()
    const leader = guard.execute(fn, { key: 'k' })
    const joiner = guard.execute(fn, { key: 'k' })
    calls[0]!.done.resolve({ nested: { n: 1 } })
    const value = await leader
    // Nothing left to join: the same request made now is a new upstream call.
    expect(guard.size).toBe(0)
    expect(await joiner).toBe(value)
    expect(Object.isFrozen(value.nested)).toBe(true)
    const again = guard.execute(fn, { key: 'k' })
    expect(calls).toHaveLength(2)
    calls[1]!.done.resolve({ nested: { n: 2 } })
    expect((await again).nested.n).toBe(2)
  })

  it.each([
    ['without', undefined],
    ['with', new AbortController().signal],
  ])('U1 the shared call runs with its leader’s call options (leader %s a signal)', async (_, signal) => {
    const guard = dedupeGuard({ ttlMs: 0 })
    const seen: CallContext[] = []
    const fn = (ctx: CallContext): string => {
      seen.push(ctx)
      return 'v'
    }
    const call = { key: 'k', cost: 3, service: 'svc', priority: 'background' as const, signal }
    expect(await Promise.all([guard.execute(fn, call), guard.execute(fn, { key: 'k' })])).toEqual(['v', 'v'])
    expect(seen).toHaveLength(1)
    const ctx = seen[0]!
    // The foreground joiner raised the run's priority (U3).
    expect([ctx.key, ctx.cost, ctx.service, ctx.priority]).toEqual(['k', 3, 'svc', 'foreground'])
    expect(ctx.signal.aborted).toBe(false)
  })

  it('U3 a shed leader gets the shed; a joiner with a signal leads the next run, which it can abort (U4)', async () => {
    const dedupe = dedupeGuard({ ttlMs: 0 })
    const guard = compose(dedupe, new ShedFirst())
    const { calls, fn } = upstream<string>()
    const leader = guard.execute(fn, { key: 'k' })
    const abort = new AbortController()
    const joiner = guard.execute(fn, { key: 'k', signal: abort.signal })
    await expect(leader).rejects.toBeInstanceOf(BackpressureShedError)
    await flush()
    expect(calls).toHaveLength(1)
    const upstreamSignal = calls[0]!.ctx.signal
    abort.abort(new Error('joiner left'))
    await expect(joiner).rejects.toThrow('joiner left')
    expect(upstreamSignal.aborted).toBe(true)
    expect(dedupe.size).toBe(0)
    calls[0]!.done.reject(upstreamSignal.reason)
  })

  it('U1 overlapping calls with different keys each coalesce under their own key, whichever ends first', async () => {
    const guard = dedupeGuard({ ttlMs: 0 })
    const { calls, fn } = upstream<string>()
    const run = (key: string) => guard.execute(fn, { key })
    const first = [run('a'), run('b'), run('c')]
    expect(guard.size).toBe(3)
    calls[0]!.done.resolve('a1') // the first key's flight ends while the others run
    expect(await first[0]).toBe('a1')
    const second = [run('d'), run('b'), run('c'), run('a')]
    expect(calls.map((c) => c.ctx.key)).toEqual(['a', 'b', 'c', 'd', 'a'])
    expect(guard.size).toBe(4)
    calls[2]!.done.resolve('c1')
    calls[1]!.done.resolve('b1')
    calls[3]!.done.resolve('d1')
    calls[4]!.done.resolve('a2')
    expect(await Promise.all([...first.slice(1), ...second])).toEqual(['b1', 'c1', 'd1', 'b1', 'c1', 'a2'])
    expect(guard.size).toBe(0)
    expect(calls).toHaveLength(5)
  })

  it('U2 the in-flight count is one while a call runs and zero after each of many calls', async () => {
    const guard = dedupeGuard({ ttlMs: 0 })
    for (let i = 0; i < 20; i++) {
      const call = guard.execute(() => Promise.resolve(i), { key: `k${i % 3}` })
      expect(guard.size).toBe(1)
      expect(await call).toBe(i)
      expect(guard.size).toBe(0)
    }
  })
})

describe('a leader whose signal comes from a total timeout outside dedupe', () => {
  it('R2 the shared run keeps the total deadline: a retry inside gives up rather than sleep past it', async () => {
    const clock = testClock()
    const guard = compose(
      timeoutGuard({ totalMs: 100, clock }),
      dedupeGuard({ ttlMs: 0 }),
      retryGuard({ maxAttempts: 3, baseDelayMs: 500, jitter: 'none', clock }),
    )
    let attempts = 0
    const call = guard.execute(
      () => {
        attempts++
        throw httpError(503)
      },
      { key: 'k' },
    )
    await expect(call).rejects.toMatchObject({ status: 503 })
    expect(attempts).toBe(1)
    await flush()
    expect(clock.pending).toBe(0)
  })
})
