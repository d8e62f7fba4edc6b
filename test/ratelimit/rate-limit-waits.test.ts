import { describe, expect, it } from 'vitest'
import { compose } from '../../src/core/compose.js'
import { isRateLimitError, RateLimitError } from '../../src/core/errors/rate-limit-error.js'
import { InMemoryRateLimitStore } from '../../src/ratelimit/memory-store.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import type { RateLimitedEvent, RateLimitWaitEvent } from '../../src/ratelimit/rate-limit-options.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { flush } from '../helpers/deferred.js'
import { recorder } from './kit.js'

describe('L1 waits', () => {
  it('L1 a call takes 1 request; when the budget is short it waits until the budget has refilled', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 2, windowMs: 1_000, clock })
    const waits: RateLimitWaitEvent[] = []
    guard.onWait((e) => waits.push(e))
    const r = recorder(clock)
    const calls = ['a', 'b', 'c', 'd'].map((label) => r.call(guard, label, { service: 'svc' }))
    await flush()
    expect(r.order()).toEqual(['a', 'b']) // the whole budget at once, then one every 500 ms
    await clock.advance(499)
    expect(r.order()).toEqual(['a', 'b'])
    await clock.advance(1)
    expect(r.order()).toEqual(['a', 'b', 'c'])
    await clock.advance(500)
    expect(await Promise.all(calls)).toEqual(['a', 'b', 'c', 'd'])
    expect(r.starts.map((s) => s.at)).toEqual([0, 0, 500, 1_000])
    expect(waits).toEqual([
      { service: 'svc', waitMs: 500, priority: 'foreground', limit: 'requests' },
      { service: 'svc', waitMs: 1_000, priority: 'foreground', limit: 'requests' },
    ])
    expect(clock.pending).toBe(0)
  })

  it('L1 a call takes its cost in tokens and waits for the tokens it lacks', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ tokens: 100, windowMs: 1_000, clock })
    const r = recorder(clock)
    const first = r.call(guard, 'first', { cost: 60 })
    const second = r.call(guard, 'second', { cost: 60 })
    await flush()
    expect(r.order()).toEqual(['first'])
    // 40 left; 20 more refill at 0.1 token/ms.
    await clock.advance(200)
    expect(await Promise.all([first, second])).toEqual(['first', 'second'])
    expect(r.at('second')).toBe(200)
    expect(await guard.remaining()).toEqual({ tokens: 0, resetMs: 1_000 })
  })

  it('L1 a waiting call aborts at once with its signal reason, holding nothing: the next call gets the budget', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 1, windowMs: 1_000, clock })
    const r = recorder(clock)
    await r.call(guard, 'first')
    const controller = new AbortController()
    const aborted = r.call(guard, 'aborted', { signal: controller.signal })
    const next = r.call(guard, 'next')
    await clock.advance(300)
    controller.abort(new Error('user left'))
    expect(((await aborted) as Error).message).toBe('user left')
    await clock.advance(700)
    expect(await next).toBe('next')
    expect(r.order()).toEqual(['first', 'next'])
    expect(r.at('next')).toBe(1_000) // the budget the aborted call waited for went to the next one
    expect(clock.pending).toBe(0)
  })

  it('L1 a call that cannot get budget within maxWaitMs fails at once with RateLimitError, taking nothing', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 2, windowMs: 1_000, maxWaitMs: 600, clock })
    const limited: RateLimitedEvent[] = []
    guard.onLimited((e) => limited.push(e))
    const r = recorder(clock)
    const calls = ['a', 'b', 'c', 'd'].map((label) => r.call(guard, label, { service: 'svc' }))
    await flush()
    // c is served at 500 ms; d would wait until 1 000 ms, past its 600 ms, and fails when it is asked for.
    await clock.advance(500)
    const [, , c, d] = await Promise.all(calls)
    expect(c).toBe('c')
    expect(isRateLimitError(d)).toBe(true)
    expect(d).toMatchObject({ service: 'svc', limit: 'requests', retryAfterMs: 500 })
    expect(limited).toEqual([
      { service: 'svc', limit: 'requests', retryAfterMs: 500, priority: 'foreground' },
    ])
    expect(r.order()).toEqual(['a', 'b', 'c'])
    // Nothing was taken for d: the next request is ready at 1 000 ms as before.
    await clock.advance(500)
    expect(await r.call(guard, 'e', { service: 'svc' })).toBe('e')
  })

  it('L1 maxWaitMs 0: a call goes now or fails now', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 1, windowMs: 60_000, maxWaitMs: 0, clock })
    expect(await guard.execute(() => 'now')).toBe('now')
    const error = await guard.execute(() => 'never').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toMatchObject({ limit: 'requests', retryAfterMs: 60_000 })
  })

  it('L1 a waiter whose maxWaitMs runs out behind others fails then, with what it still lacked', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 1, windowMs: 1_000, maxWaitMs: 1_500, clock })
    const r = recorder(clock)
    await r.call(guard, 'a')
    const b = r.call(guard, 'b') // reserved for 1 000 ms
    await clock.advance(100)
    const c = r.call(guard, 'c') // behind b, asks when b has gone: would go at 2 000, past its 1 600
    await clock.advance(900)
    expect(await b).toBe('b')
    const error = await c
    expect(isRateLimitError(error)).toBe(true)
    expect(r.order()).toEqual(['a', 'b'])
    expect(clock.pending).toBe(0)
  })

  it('L1 a call whose cost exceeds the whole token budget fails at once (retryAfterMs Infinity)', async () => {
    const guard = rateLimitGuard({ tokens: 1_000, clock: testClock() })
    const error = await guard.execute(() => 'x', { cost: 1_001 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ limit: 'tokens', retryAfterMs: Number.POSITIVE_INFINITY })
    expect(await guard.execute(() => 'fits', { cost: 1_000 })).toBe('fits')
  })

  it('L1 background calls yield to foreground ones while waiting (foreground first, FIFO within a class)', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ requests: 1, windowMs: 1_000, clock })
    const r = recorder(clock)
    const all = [r.call(guard, 'fg0')]
    all.push(
      r.call(guard, 'bg1', { priority: 'background' }),
      r.call(guard, 'bg2', { priority: 'background' }),
    )
    await clock.advance(100)
    all.push(r.call(guard, 'fg1'), r.call(guard, 'fg2'))
    await clock.advance(4_000)
    await Promise.all(all)
    expect(r.order()).toEqual(['fg0', 'fg1', 'fg2', 'bg1', 'bg2'])
    expect(r.starts.map((s) => s.at)).toEqual([0, 1_000, 2_000, 3_000, 4_000])
  })

  it('L1 a foreground call goes at once past background calls when budget is there for it', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ tokens: 100, windowMs: 1_000, clock })
    const r = recorder(clock)
    await r.call(guard, 'drain', { cost: 95 })
    const big = r.call(guard, 'big background', { cost: 100, priority: 'background' })
    await flush()
    expect(await r.call(guard, 'small foreground', { cost: 5 })).toBe('small foreground')
    await clock.advance(1_000)
    expect(await big).toBe('big background')
    expect(r.order()).toEqual(['drain', 'small foreground', 'big background'])
  })

  it('L1 guards on one store share each service budget; other services are separate', async () => {
    const clock = testClock()
    const store = new InMemoryRateLimitStore({ clock })
    const a = rateLimitGuard({ requests: 2, windowMs: 60_000, maxWaitMs: 0, store, clock })
    const b = rateLimitGuard({ requests: 2, windowMs: 60_000, maxWaitMs: 0, store, clock })
    await a.execute(() => 1, { service: 'openai:gpt-4o' })
    await b.execute(() => 2, { service: 'openai:gpt-4o' })
    expect(isRateLimitError(await a.execute(() => 3, { service: 'openai:gpt-4o' }).catch((e) => e))).toBe(
      true,
    )
    expect(await b.execute(() => 'other model', { service: 'anthropic:claude' })).toBe('other model')
    expect(await a.remaining('openai:gpt-4o')).toEqual({ requests: 0, resetMs: 60_000 })
  })

  it('L1 remaining() reports the budget left per kind and when it is whole again; undefined for a kind without limit', async () => {
    const clock = testClock()
    const guard = rateLimitGuard({ service: 'svc', requests: 10, tokens: 1_000, windowMs: 10_000, clock })
    await guard.execute(() => 'x', { cost: 500 })
    expect(await guard.remaining()).toEqual({ requests: 9, tokens: 500, resetMs: 5_000 })
    await clock.advance(2_500)
    expect(await guard.remaining('svc')).toEqual({ requests: 10, tokens: 750, resetMs: 2_500 })
    const onlyRequests = rateLimitGuard({ requests: 5, clock })
    expect(await onlyRequests.remaining()).toEqual({ requests: 5, resetMs: 0 })
  })
})

describe('L1 in a composition', () => {
  it("L1 composes with compose(): the call's service, cost and priority reach it through the one context", async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ service: 'own', tokens: 100, windowMs: 1_000, clock })
    const guard = compose(limit, timeoutGuard({ attemptMs: 5_000 }))
    const waits: RateLimitWaitEvent[] = []
    limit.onWait((e) => waits.push(e))
    const seen: string[] = []
    await guard.execute((ctx) => seen.push(ctx.service), { cost: 100 })
    const second = guard.execute((ctx) => seen.push(ctx.service), {
      service: 'call',
      cost: 50,
      priority: 'background',
    })
    await second
    const third = guard.execute((ctx) => seen.push(ctx.service), { cost: 50 })
    await clock.advance(500)
    await third
    expect(seen).toEqual(['own', 'call', 'own'])
    expect(waits).toEqual([{ service: 'own', waitMs: 500, priority: 'foreground', limit: 'tokens' }])
  })
})
