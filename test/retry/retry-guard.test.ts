import { describe, expect, it } from 'vitest'
import { compose } from '../../src/core/compose.js'
import type { Guard } from '../../src/core/guard.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import type { GiveUpEvent, RetryEvent } from '../../src/retry/retry-options.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

/** Records when each attempt started, on the injected clock. */
function failing(clock: { now(): number }, errors: unknown[], result: unknown = 'ok') {
  const starts: number[] = []
  const fn = () => {
    starts.push(clock.now())
    const error = errors.shift()
    return error === undefined ? Promise.resolve(result) : Promise.reject(error)
  }
  return { fn, starts }
}

function events(guard: ReturnType<typeof retryGuard>) {
  const retries: RetryEvent[] = []
  const giveUps: GiveUpEvent[] = []
  guard.onRetry((e) => retries.push(e))
  guard.onGiveUp((e) => giveUps.push(e))
  return { retries, giveUps }
}

describe('R1 retry schedule', () => {
  it('R1 retries with base * 2^(n-1) and maxAttempts counts the first call', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 4, baseDelayMs: 100, jitter: 'none', clock })
    const { fn, starts } = failing(clock, [httpError(503), httpError(503), httpError(503), httpError(503)])
    const call = guard.execute(fn).catch((e: unknown) => e)
    await clock.advance(10_000)
    expect(await call).toMatchObject({ status: 503 })
    expect(starts).toEqual([0, 100, 300, 700])
  })

  it('R1 full jitter stays within [0, capped delay]', async () => {
    const clock = testClock()
    const guard = retryGuard({
      maxAttempts: 3,
      baseDelayMs: 1_000,
      maxDelayMs: 1_500,
      clock,
      random: () => 0.5,
    })
    const { retries } = events(guard)
    const { fn } = failing(clock, [httpError(500), httpError(500)])
    const call = guard.execute(fn)
    await clock.advance(10_000)
    await call
    expect(retries.map((r) => r.delayMs)).toEqual([500, 750])
  })

  it('R1 maxAttempts 1 never retries', async () => {
    const guard = retryGuard({ maxAttempts: 1 })
    let calls = 0
    const fail = () => {
      calls++
      return Promise.reject(httpError(503))
    }
    await expect(guard.execute(fail)).rejects.toMatchObject({ status: 503 })
    expect(calls).toBe(1)
  })
})

describe('R2 Retry-After', () => {
  it('R2 honours retry-after-ms exactly, without jitter shortening it', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, clock, random: () => 0 })
    const { fn, starts } = failing(clock, [httpError(429, { 'retry-after-ms': '1500' })])
    const call = guard.execute(fn)
    await clock.advance(1_499)
    expect(starts).toEqual([0])
    await clock.advance(1)
    expect(await call).toBe('ok')
    expect(starts).toEqual([0, 1_500])
  })

  it('R2 reads retry-after in seconds and as an HTTP date', async () => {
    const clock = testClock(Date.parse('2026-03-01T12:00:00Z'))
    // random 0: no spread, so the waits are exactly what was asked.
    const guard = retryGuard({ maxAttempts: 3, clock, random: () => 0 })
    const { fn, starts } = failing(clock, [
      httpError(503, { 'retry-after': '2' }),
      httpError(503, { 'retry-after': new Date(Date.parse('2026-03-01T12:00:05Z')).toUTCString() }),
    ])
    const call = guard.execute(fn)
    await clock.advance(10_000)
    await call
    const t0 = Date.parse('2026-03-01T12:00:00Z')
    expect(starts.map((t) => t - t0)).toEqual([0, 2_000, 5_000])
  })

  it('R2 a retry-after-ms of 0 is honoured: retry at once', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, clock })
    const { fn, starts } = failing(clock, [httpError(429, { 'retry-after-ms': '0' })])
    expect(await guard.execute(fn)).toBe('ok')
    expect(starts).toEqual([0, 0])
  })

  it('R2 a wait beyond the cap means give up now, never sleep past it', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 5, clock })
    const { giveUps } = events(guard)
    const { fn, starts } = failing(clock, [httpError(429, { 'retry-after': '1800' })])
    await expect(guard.execute(fn)).rejects.toMatchObject({ status: 429 })
    expect(starts).toEqual([0])
    expect(clock.pending).toBe(0)
    expect(giveUps).toMatchObject([{ stoppedBy: 'retry_after_too_long', reason: 'rate_limited', attempt: 1 }])
  })

  it('R2 a wait beyond the remaining total timeout means give up now', async () => {
    const clock = testClock()
    const retry = retryGuard({ maxAttempts: 5, clock })
    const { giveUps } = events(retry)
    const guard = compose(retry, timeoutGuard({ totalMs: 2_000, clock }))
    const { fn, starts } = failing(clock, [httpError(503, { 'retry-after': '3' })])
    await expect(guard.execute(fn)).rejects.toMatchObject({ status: 503 })
    expect(starts).toEqual([0])
    expect(giveUps[0]?.stoppedBy).toBe('deadline')
    expect(clock.pending).toBe(0)
  })

  it('R2 honorRetryAfter: false uses the backoff instead', async () => {
    const clock = testClock()
    const guard = retryGuard({
      maxAttempts: 2,
      clock,
      honorRetryAfter: false,
      baseDelayMs: 10,
      jitter: 'none',
    })
    const { fn, starts } = failing(clock, [httpError(429, { 'retry-after': '30' })])
    const call = guard.execute(fn)
    await clock.advance(10)
    await call
    expect(starts).toEqual([0, 10])
  })
})

describe('R3 what is retried', () => {
  it('R3 by default only retryable classifications are retried', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 3, clock })
    const { giveUps } = events(guard)
    let calls = 0
    await expect(guard.execute(() => Promise.reject(httpError(400, {}, void calls++)))).rejects.toMatchObject(
      { status: 400 },
    )
    expect(calls).toBe(1)
    expect(giveUps[0]).toMatchObject({ stoppedBy: 'not_retryable', reason: 'bad_request' })
    const quota = Object.assign(httpError(429), { error: { type: 'insufficient_quota' } })
    await expect(guard.execute(() => Promise.reject(quota))).rejects.toBe(quota)
    expect(giveUps[1]).toMatchObject({ stoppedBy: 'not_retryable', reason: 'quota_exhausted' })
  })

  it('R3 a custom retryOn decides instead', async () => {
    const clock = testClock()
    const guard = retryGuard({
      maxAttempts: 2,
      clock,
      baseDelayMs: 0,
      retryOn: (e) => (e as Error).message === 'flaky',
    })
    const { fn, starts } = failing(clock, [new Error('flaky')])
    expect(await guard.execute(fn)).toBe('ok')
    expect(starts).toHaveLength(2)
  })

  it('R3 retryOnResult retries a bad result, and returns the last one after the last attempt', async () => {
    const clock = testClock()
    const guard = retryGuard({
      maxAttempts: 3,
      clock,
      baseDelayMs: 10,
      jitter: 'none',
      retryOnResult: (v) => v === '',
    })
    const { retries, giveUps } = events(guard)
    const results = ['', '', 'done']
    const call = guard.execute(() => results.shift())
    await clock.advance(100)
    expect(await call).toBe('done')
    expect(retries.map((r) => [r.reason, r.error])).toEqual([
      ['result', undefined],
      ['result', undefined],
    ])
    const empty = guard.execute(() => '')
    await clock.advance(100)
    expect(await empty).toBe('')
    expect(giveUps.at(-1)).toMatchObject({ stoppedBy: 'max_attempts', reason: 'result' })
  })
  it('R3 a held result (a stream already handed over) is returned, never judged and discarded', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 3, clock, baseDelayMs: 0, retryOnResult: (v) => v === 'empty' })
    let attempts = 0
    const end = deferred<void>()
    const value = await guard.execute((ctx) => {
      attempts++
      ctx.hold(end.promise)
      return 'empty'
    })
    expect(value).toBe('empty')
    expect(attempts).toBe(1)
    end.resolve()
  })
})

describe('R4 abort during a backoff sleep', () => {
  it('R4 rejects at once with the signal reason and makes no further attempt', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 5, baseDelayMs: 1_000, jitter: 'none', clock })
    const controller = new AbortController()
    let calls = 0
    const call = guard.execute(() => Promise.reject(httpError(503, {}, void calls++)), {
      signal: controller.signal,
    })
    const settled = call.catch((e: unknown) => e)
    await flush()
    expect(clock.pending).toBe(1)
    const reason = new Error('caller left')
    controller.abort(reason)
    expect(await settled).toBe(reason)
    await clock.advance(10_000)
    expect(calls).toBe(1)
    expect(clock.pending).toBe(0)
  })

  it('R4 a sleeping retry holds no slot of the guards inside it', async () => {
    const clock = testClock()
    let inFlight = 0
    const observed: number[] = []
    const slot: Guard = {
      name: 'slot',
      async execute(fn, call) {
        inFlight++
        try {
          return await fn({
            signal: call?.signal ?? new AbortController().signal,
            service: 'default',
            cost: 1,
            priority: 'foreground',
            attempt: 1,
            hold() {},
            touch() {},
          })
        } finally {
          inFlight--
        }
      },
    }
    const guard = compose(retryGuard({ maxAttempts: 2, baseDelayMs: 100, jitter: 'none', clock }), slot)
    const { fn } = failing(clock, [httpError(503)])
    const call = guard.execute(fn)
    await clock.advance(50)
    observed.push(inFlight)
    await clock.advance(50)
    await call
    expect(observed).toEqual([0])
  })
})

describe('R5 retry budget', () => {
  it('R5 retries may not exceed ratio of calls in the window; then the error is thrown at once and counted', async () => {
    const clock = testClock()
    const budget = retryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 1_000, clock })
    const guard = retryGuard({ maxAttempts: 2, baseDelayMs: 0, budget, clock })
    let exhausted = 0
    guard.onBudgetExhausted(() => exhausted++)
    let upstream = 0
    const fail = () => Promise.reject(httpError(503, {}, void upstream++))
    const outcomes = []
    for (let i = 0; i < 4; i++) outcomes.push(await guard.execute(fail).catch(() => 'failed'))
    // 4 calls deposit 4 × 0.5 = 2 retries; calls 1 and 2 use them, calls 3 and 4 fail at once.
    expect(outcomes).toEqual(['failed', 'failed', 'failed', 'failed'])
    expect(upstream).toBe(2 + 2 + 1 + 1)
    expect(exhausted).toBe(2)
  })

  it('R5 the window slides: old calls and retries stop counting', async () => {
    const clock = testClock()
    const budget = retryBudget({ ratio: 1, minPerSecond: 0, windowMs: 1_000, clock })
    budget.recordCall()
    expect(budget.tryAcquire()).toBe(true)
    expect(budget.tryAcquire()).toBe(false)
    await clock.advance(500)
    budget.recordCall()
    // Half a window later both calls still count: 2 calls allow 2 retries, 1 is taken.
    expect(budget.tryAcquire()).toBe(true)
    expect(budget.tryAcquire()).toBe(false)
    await clock.advance(500)
    // The first call and its retry slid out; the second call and its retry remain.
    expect(budget.tryAcquire()).toBe(false)
    await clock.advance(500)
    expect(budget.remaining).toBe(0)
    budget.recordCall()
    expect(budget.tryAcquire()).toBe(true)
  })

  it('R5 the per-second floor lets a quiet service retry', () => {
    const clock = testClock()
    const budget = retryBudget({ ratio: 0, minPerSecond: 2, windowMs: 1_000, clock })
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()]).toEqual([true, true, false])
    expect(budget.remaining).toBe(0)
  })

  it('R5 a storm from many callers is bounded by the budget', async () => {
    const clock = testClock()
    const budget = retryBudget({ ratio: 0.1, minPerSecond: 0, clock })
    const guard = retryGuard({ maxAttempts: 5, baseDelayMs: 0, budget, clock })
    let upstream = 0
    const calls = Array.from({ length: 100 }, () =>
      guard.execute(() => Promise.reject(httpError(503, {}, void upstream++))).catch(() => {}),
    )
    await Promise.all(calls)
    // Without the budget: 500 upstream requests. With it: 100 calls + at most 10 % retries.
    expect(upstream).toBeLessThanOrEqual(110)
  })
})

describe('R6 events', () => {
  it('R6 onRetry carries attempt, delay, error, service and reason; onGiveUp fires once', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, baseDelayMs: 200, jitter: 'none', clock, service: 'openai' })
    const { retries, giveUps } = events(guard)
    const e1 = httpError(502)
    const e2 = httpError(503)
    const call = guard
      .execute(failing(clock, [e1, e2]).fn, { service: 'anthropic:claude' })
      .catch((e: unknown) => e)
    await clock.advance(200)
    expect(await call).toBe(e2)
    expect(retries).toEqual([
      { attempt: 1, delayMs: 200, error: e1, service: 'anthropic:claude', reason: 'server_error' },
    ])
    expect(giveUps).toEqual([
      {
        attempt: 2,
        error: e2,
        service: 'anthropic:claude',
        reason: 'server_error',
        stoppedBy: 'max_attempts',
      },
    ])
  })

  it('R6 the guard service is used when the call names none; a disposed listener hears nothing', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 2, baseDelayMs: 0, clock, service: 'openai' })
    const seen: string[] = []
    const sub = guard.onRetry((e) => seen.push(e.service))
    await guard.execute(failing(clock, [httpError(500)]).fn)
    sub.dispose()
    await guard.execute(failing(clock, [httpError(500)]).fn)
    expect(seen).toEqual(['openai'])
  })
})
