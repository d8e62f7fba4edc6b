import { describe, expect, it } from 'vitest'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

describe('retry outside the breaker', () => {
  it('R4 C3 a sleeping retry holds no probe lease: another caller probes meanwhile', async () => {
    const clock = testClock()
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 1_000, clock })
    const guard = compose(retryGuard({ maxAttempts: 2, baseDelayMs: 5_000, jitter: 'none', clock }), breaker)
    await breaker.execute(() => Promise.reject(httpError(503))).catch(() => {})
    await clock.advance(1_000) // half-open: the next call is the probe
    // The probe meets a 429 without Retry-After (ignored by the breaker: the lease is released, no
    // cooldown) and the retry sleeps 5 s before its next attempt.
    let attempts = 0
    const sleeper = guard.execute(() => {
      attempts++
      return attempts === 1 ? Promise.reject(httpError(429)) : 'second attempt'
    })
    await flush()
    expect(await breaker.state()).toBe('half-open')
    const other = deferred<string>()
    const otherCall = breaker.execute(() => other.promise) // admitted as the probe while the first sleeps
    other.resolve('other probed')
    expect(await otherCall).toBe('other probed')
    expect(await breaker.state()).toBe('closed')
    await clock.advance(5_000)
    expect(await sleeper).toBe('second attempt')
  })

  it('R3 C5 a result rejected by retryOnResult is retried without counting as a breaker failure', async () => {
    const clock = testClock()
    const breaker = circuitGuard({ threshold: 1, recoveryMs: 1_000, clock })
    const guard = compose(
      retryGuard({ maxAttempts: 3, baseDelayMs: 10, jitter: 'none', clock, retryOnResult: (v) => v === '' }),
      breaker,
    )
    const results = ['', '', 'finally']
    const call = guard.execute(() => results.shift())
    await clock.advance(100)
    expect(await call).toBe('finally')
    expect(await breaker.state()).toBe('closed')
    expect(await breaker.failureCount()).toBe(0)
  })
})
