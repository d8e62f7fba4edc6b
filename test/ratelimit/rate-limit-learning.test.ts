import { describe, expect, it } from 'vitest'
import { isRateLimitError } from '../../src/core/errors/rate-limit-error.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { flush } from '../helpers/deferred.js'
import { providerBudget, providerError, recorder } from './kit.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')

describe('L3 learning from the provider', () => {
  it('L3 OpenAI headers tighten the budget at once: the lower of remaining and what the reset implies', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ service: 'openai:gpt-4o', requests: 100, tokens: 100_000, clock })
    guard.observe('openai:gpt-4o', {
      headers: new Headers({
        'x-ratelimit-limit-requests': '100',
        'x-ratelimit-remaining-requests': '40',
        'x-ratelimit-reset-requests': '54s', // a bucket refilling 100/min is whole in 54 s from 10 left
        'x-ratelimit-limit-tokens': '100000',
        'x-ratelimit-remaining-tokens': '25000',
        'x-ratelimit-reset-tokens': '6m0s', // longer than the window: nothing is left
      }),
    })
    expect(await guard.remaining()).toEqual({ requests: 10, tokens: 0, resetMs: 60_000 })
  })

  it('L3 Anthropic headers (RFC 3339 resets) tighten the budget at once', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 50, tokens: 40_000, clock })
    guard.observe('default', {
      headers: {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '45',
        'anthropic-ratelimit-requests-reset': '2026-12-01T12:00:06Z',
        'anthropic-ratelimit-tokens-limit': '40000',
        'anthropic-ratelimit-tokens-remaining': '30000',
        'anthropic-ratelimit-tokens-reset': '2026-12-01T12:00:15Z',
      },
    })
    expect(await guard.remaining()).toEqual({ requests: 45, tokens: 30_000, resetMs: 15_000 })
  })

  it('L3 a learned limit lowers a configured one at once; the budget then refills at the real rate', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 200, windowMs: 1_000, maxWaitMs: 0, clock })
    guard.observe('default', { headers: { 'x-ratelimit-limit-requests': '100' } })
    expect(await guard.remaining()).toEqual({ requests: 100, resetMs: 0 })
    let ran = 0
    while (!isRateLimitError(await guard.execute(() => ran++).catch((e: unknown) => e)));
    expect(ran).toBe(100)
    await clock.advance(500)
    expect((await guard.remaining()).requests).toBe(50) // 100 per second, not 200
  })

  it('L3 a learned limit below the configured one keeps what was used of it used: the level falls by the difference', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 100, windowMs: 60_000, maxWaitMs: 0, clock })
    for (let i = 0; i < 30; i++) await guard.execute(() => i)
    expect((await guard.remaining()).requests).toBe(70)
    // Only the limit is reported (the requests just taken may not have reached the provider yet):
    // 30 of the real 40 are spent, not 30 of 100.
    guard.observe('default', { headers: { 'x-ratelimit-limit-requests': '40' } })
    expect((await guard.remaining()).requests).toBe(10)
  })

  it('L3 a configured budget twice the real one is corrected within one window: no 429 after it, the budget used', async () => {
    const clock = testClock(NOW)
    const WINDOW = 1_000
    const provider = providerBudget(20, WINDOW, () => clock.now())
    const guard = rateLimitGuard({ service: 'svc', requests: 40, windowMs: WINDOW, maxWaitMs: 10_000, clock })
    const START = clock.now()
    const END = START + 5 * WINDOW
    const late = { accepted: 0, rejected: 0 }
    const callerErrors: unknown[] = []
    const caller = async (): Promise<void> => {
      while (clock.now() < END) {
        await guard
          .execute(async () => {
            await clock.sleep(20) // on its way to the provider
            const afterFirstWindow = clock.now() >= START + WINDOW
            let headers: Record<string, string>
            try {
              headers = provider.request()
              if (afterFirstWindow) late.accepted++
            } catch (error) {
              if (afterFirstWindow) late.rejected++
              await clock.sleep(20)
              throw error
            }
            await clock.sleep(20) // the answer on its way back
            guard.observe('svc', { headers })
          })
          .catch((error: unknown) => {
            if (!(error as { status?: number }).status) callerErrors.push(error)
          })
      }
    }
    let finished = false
    const callers = Promise.all(Array.from({ length: 30 }, caller)).then(() => (finished = true))
    while (!finished) await clock.advance(5)
    await callers
    expect(provider.stats.rejected).toBeGreaterThan(0) // the first burst found out the real limit
    expect(late.rejected).toBe(0)
    expect(late.accepted).toBeGreaterThanOrEqual(0.8 * 20 * 4)
    expect(callerErrors).toEqual([])
  })

  it('L3 a 429 observed with its Retry-After empties the budget until then', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 100, windowMs: 1_000, clock })
    guard.observe('default', { status: 429, headers: { 'retry-after': '2' } })
    expect(await guard.remaining()).toEqual({ requests: 0, resetMs: 2_000 })
    const r = recorder(clock)
    const call = r.call(guard, 'after the pause')
    await clock.advance(1_999)
    expect(r.order()).toEqual([])
    await clock.advance(1)
    expect(await call).toBe('after the pause')
    // The budget refilled during the pause, as the provider's did.
    expect((await guard.remaining()).requests).toBe(99)
  })

  it('L3 a 429 error passing through the guard pauses the budget for its Retry-After', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 100, windowMs: 1_000, clock })
    const error = providerError(429, { 'retry-after-ms': '3000' })
    expect(await guard.execute(() => Promise.reject(error)).catch((e: unknown) => e)).toBe(error)
    const r = recorder(clock)
    const next = r.call(guard, 'next')
    await clock.advance(2_999)
    await flush()
    expect(r.order()).toEqual([])
    await clock.advance(1)
    expect(await next).toBe('next')
  })

  it('L3 a 429 with no Retry-After empties the budget, which refills from there', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 10, windowMs: 1_000, clock })
    guard.observe('default', { status: 429 })
    const r = recorder(clock)
    const next = r.call(guard, 'next')
    await clock.advance(100)
    expect(await next).toBe('next')
    expect(r.at('next')).toBe(NOW + 100)
  })

  it('L3 learnFromHeaders false: rate-limit headers are ignored, a 429 still pauses the budget', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ requests: 10, windowMs: 1_000, learnFromHeaders: false, clock })
    guard.observe('default', {
      headers: { 'x-ratelimit-limit-requests': '2', 'x-ratelimit-remaining-requests': '0' },
    })
    expect(await guard.remaining()).toEqual({ requests: 10, resetMs: 0 })
    guard.observe('default', { status: 429, headers: { 'retry-after': '1' } })
    expect(await guard.remaining()).toEqual({ requests: 0, resetMs: 1_000 })
  })

  it('L3 with no configured budget the learned one applies', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ windowMs: 1_000, maxWaitMs: 0, clock })
    expect(await guard.remaining()).toEqual({ resetMs: 0 }) // nothing known: no limit yet
    guard.observe('default', {
      headers: { 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '2' },
    })
    await guard.execute(() => 1)
    await guard.execute(() => 2)
    expect(isRateLimitError(await guard.execute(() => 3).catch((e: unknown) => e))).toBe(true)
  })
})

describe('L4 token settlement', () => {
  it('L4 observe settles a call to its usage: what it reserved beyond it goes back, what it used beyond it is taken', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ tokens: 10_000, windowMs: 3_600_000, clock })
    await guard.execute(
      (ctx) =>
        guard.observe(ctx.service, { usage: { inputTokens: 300, outputTokens: 100 }, reserved: ctx.cost }),
      {
        cost: 2_000,
      },
    )
    expect((await guard.remaining()).tokens).toBe(9_600)
    await guard.execute(
      (ctx) => guard.observe(ctx.service, { usage: { totalTokens: 1_500 }, reserved: ctx.cost }),
      {
        cost: 1_000,
      },
    )
    expect((await guard.remaining()).tokens).toBe(8_100)
    // A response the guard did not reserve for (no `reserved`): its whole usage is taken.
    guard.observe('default', { usage: { totalTokens: 100 } })
    expect((await guard.remaining()).tokens).toBe(8_000)
  })

  it('L4 tokens a call gave back go to a waiting call at once', async () => {
    const clock = testClock(NOW)
    const guard = rateLimitGuard({ tokens: 1_000, windowMs: 3_600_000, maxWaitMs: 3_600_000, clock })
    const r = recorder(clock)
    await guard.execute(() => 'big', { cost: 1_000 })
    const waiting = r.call(guard, 'waiting', { cost: 500 })
    await flush()
    expect(r.order()).toEqual([])
    guard.observe('default', { usage: { totalTokens: 400 }, reserved: 1_000 })
    expect(await waiting).toBe('waiting')
    expect(clock.now()).toBe(NOW)
  })
})
