/**
 * L3 / L4 through the answer channel: what `fn` reports (`reportAnswer`) is what the provider
 * answered the call. The rate limit learns its headers and 429s, and settles the call's take to its
 * usage, with no `observe()` call by anyone.
 */
import { describe, expect, it } from 'vitest'
import { reportAnswer } from '../../src/core/answer-channel.js'
import { compose } from '../../src/core/compose.js'
import { InMemoryRateLimitStore } from '../../src/ratelimit/memory-store.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import type { BudgetObservation } from '../../src/ratelimit/rate-limit-store.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

/** A budget that does not refill during a test (the test clock stays put): counts are exact. */
const SLOW = { windowMs: 3_600_000 }

/** An in-memory store that counts what it is told to learn. */
class CountingStore extends InMemoryRateLimitStore {
  readonly learned: BudgetObservation[] = []
  override learn(...args: Parameters<InMemoryRateLimitStore['learn']>): void {
    this.learned.push(args[2])
    super.learn(...args)
  }
}

describe('L4 a call is settled to the usage its answer reports', () => {
  it('L4 below the reservation the rest goes back; above it the difference is taken', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ tokens: 1_000, ...SLOW, clock })
    await limit.execute(
      (ctx) => reportAnswer(ctx, { status: 200, usage: { inputTokens: 20, outputTokens: 10 } }),
      {
        cost: 100,
      },
    )
    expect((await limit.remaining()).tokens).toBe(970)
    await limit.execute((ctx) => reportAnswer(ctx, { status: 200, usage: { totalTokens: 80 } }), { cost: 10 })
    expect((await limit.remaining()).tokens).toBe(890)
  })

  it('L4 a stream is settled to its final usage, reported at its end before the hold settles', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ tokens: 1_000, ...SLOW, clock })
    const end = deferred()
    let finish!: () => void
    await limit.execute(
      (ctx) => {
        ctx.hold(end.promise)
        finish = () => {
          reportAnswer(ctx, { status: 200, usage: { inputTokens: 12, outputTokens: 18 } })
          end.resolve()
        }
        return 'stream'
      },
      { cost: 200 },
    )
    expect((await limit.remaining()).tokens).toBe(800)
    finish()
    await flush()
    expect((await limit.remaining()).tokens).toBe(970)
  })

  it('L4 each attempt takes and is settled on its own, whether retry is outside the limit or inside it', async () => {
    for (const order of ['retry outside', 'retry inside'] as const) {
      const clock = testClock()
      const limit = rateLimitGuard({ requests: 10, tokens: 1_000, ...SLOW, clock })
      const retry = retryGuard({ maxAttempts: 2, baseDelayMs: 0, clock })
      const guard = order === 'retry outside' ? compose(retry, limit) : compose(limit, retry)
      await guard.execute(
        (ctx) => {
          if (ctx.attempt === 1) {
            reportAnswer(ctx, { status: 503 }) // no usage: the take stays as it was
            throw httpError(503)
          }
          reportAnswer(ctx, { status: 200, usage: { inputTokens: 20, outputTokens: 10 } })
          return 'ok'
        },
        { cost: 100 },
      )
      expect(await limit.remaining(), order).toMatchObject({ requests: 8, tokens: 870 })
    }
  })

  it('L4 an answer that reports nonsense is ignored, not thrown about; the call succeeds', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ tokens: 1_000, ...SLOW, clock })
    const value = await limit.execute(
      (ctx) => {
        reportAnswer(ctx, { usage: { inputTokens: -5, outputTokens: 'many' }, headers: 42, status: 'x' })
        reportAnswer(ctx, null)
        return 'ok'
      },
      { cost: 100 },
    )
    expect(value).toBe('ok')
    expect((await limit.remaining()).tokens).toBe(900)
  })
})

describe('L3 a limit learns from the answers reported on the channel', () => {
  it('L3 the headers of a successful answer tighten the budget at once', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 100, ...SLOW, clock })
    await limit.execute((ctx) =>
      reportAnswer(ctx, {
        status: 200,
        headers: new Headers({ 'x-ratelimit-limit-requests': '100', 'x-ratelimit-remaining-requests': '3' }),
      }),
    )
    expect((await limit.remaining()).requests).toBe(3)
  })

  it('L3 a 429 answer empties the budget until its Retry-After, learned once though its error passes through too', async () => {
    const clock = testClock()
    const store = new CountingStore({ clock })
    // A window that refills a request every 10 ms: only the pause holds the next call back.
    const limit = rateLimitGuard({ requests: 100, windowMs: 1_000, clock, store })
    const headers = { 'retry-after-ms': '5000' }
    const refused = await limit
      .execute((ctx) => {
        reportAnswer(ctx, { status: 429, headers })
        throw httpError(429, headers)
      })
      .catch((e: unknown) => e)
    expect((refused as { status?: number }).status).toBe(429)
    expect(store.learned).toHaveLength(1)
    expect(store.learned[0]).toMatchObject({ pauseMs: 5_000 })
    let ran = false
    const next = limit.execute(() => {
      ran = true
    })
    await clock.advance(4_999)
    expect(ran).toBe(false)
    await clock.advance(1)
    await next
    expect(ran).toBe(true)
  })

  it('L3 a 429 that is an exhausted quota pauses nothing: the error the answer became says so', async () => {
    const clock = testClock()
    const limit = rateLimitGuard({ requests: 100, ...SLOW, clock })
    const quota = httpError(429, {}, { error: { type: 'insufficient_quota', code: 'insufficient_quota' } })
    await limit
      .execute((ctx) => {
        reportAnswer(ctx, { status: 429, headers: {}, error: quota })
        throw quota
      })
      .catch(() => {})
    expect(await limit.execute(() => 'at once')).toBe('at once')
  })

  it('L3 an error nobody reported an answer for is still learned from (an SDK error of a client the channel never sees)', async () => {
    const clock = testClock()
    const store = new CountingStore({ clock })
    const limit = rateLimitGuard({ requests: 100, ...SLOW, clock, store })
    await limit
      .execute(() => {
        throw httpError(429, { 'retry-after-ms': '2000' })
      })
      .catch(() => {})
    expect(store.learned).toEqual([expect.objectContaining({ pauseMs: 2_000 })])
  })
})
