import { describe, expect, it } from 'vitest'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

describe('llmGuard preset', () => {
  it('composes dedupe → retry → backpressure → circuit → timeout, outermost first', () => {
    const guard = llmGuard()
    expect(guard.guards.map((g) => g.name)).toEqual(['dedupe', 'retry', 'backpressure', 'circuit', 'timeout'])
    expect(guard.guards).toEqual([
      guard.dedupe,
      guard.retry,
      guard.backpressure,
      guard.circuit,
      guard.timeout,
    ])
    expect(guard.backpressure).toMatchObject({ hardLimit: 64, softLimit: 48 })
  })

  it('leaves out any layer set to false', () => {
    const guard = llmGuard({ dedupe: false, circuit: false, timeout: false })
    expect(guard.guards.map((g) => g.name)).toEqual(['retry', 'backpressure'])
    expect(guard.circuit).toBeUndefined()
  })

  it('joined callers share one whole retried call', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, retry: { baseDelayMs: 100, jitter: 'none' } })
    let upstream = 0
    const fn = () => (++upstream === 1 ? Promise.reject(httpError(503)) : Promise.resolve('answer'))
    const calls = [1, 2, 3].map(() => guard.execute(fn, { key: 'same prompt' }))
    await clock.advance(100)
    expect(await Promise.all(calls)).toEqual(['answer', 'answer', 'answer'])
    expect(upstream).toBe(2)
  })

  it('a sleeping retry holds no backpressure slot', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, retry: { baseDelayMs: 1_000, jitter: 'none' } })
    const first = deferred<string>()
    let n = 0
    const call = guard.execute(() => (++n === 1 ? Promise.reject(httpError(503)) : first.promise))
    await flush()
    expect(guard.backpressure!.depth).toBe(0)
    await clock.advance(1_000)
    expect(guard.backpressure!.depth).toBe(1)
    first.resolve('done')
    expect(await call).toBe('done')
    expect(guard.backpressure!.depth).toBe(0)
  })

  it('an open breaker stops retries at once: the provider sees no more calls', async () => {
    const clock = testClock()
    const guard = llmGuard({
      clock,
      retry: { maxAttempts: 10, baseDelayMs: 10, jitter: 'none' },
      circuit: { threshold: 3, recoveryMs: 60_000 },
    })
    let upstream = 0
    const call = guard.execute(() => Promise.reject(httpError(500, {}, void upstream++)), {
      service: 'openai:gpt',
    })
    const settled = call.catch((e: unknown) => e)
    await clock.advance(1_000)
    const error = await settled
    expect(isBrokenCircuitError(error)).toBe(true)
    expect(upstream).toBe(3)
    expect(await guard.circuit!.state('openai:gpt')).toBe('open')
  })

  it('a hard limit alone gets a soft limit at three quarters of it', () => {
    expect(llmGuard({ backpressure: { hardLimit: 8 } }).backpressure).toMatchObject({
      hardLimit: 8,
      softLimit: 6,
    })
  })

  it('rejects a layer option that is neither an object nor false', () => {
    expect(() => llmGuard({ retry: true as never })).toThrow(/"retry" must be an options object or false/)
  })
  it('C3 a probe lease outlives the attempt bound: a slow probe is never joined by a second one', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, retry: false, circuit: { threshold: 1, recoveryMs: 1_000 } })
    expect(guard.circuit!.config.probeLeaseMs).toBeGreaterThan(guard.timeout!.attemptMs!)
    await guard.execute(() => Promise.reject(httpError(503)), { service: 's' }).catch(() => {})
    await clock.advance(1_000)
    const slow = deferred<string>()
    const probe = guard.execute(() => slow.promise, { service: 's' })
    await clock.advance(90_000) // longer than the circuit's own 60 s default lease
    let secondRan = false
    const second = await guard
      .execute(() => void (secondRan = true), { service: 's' })
      .catch((e: unknown) => e)
    expect(secondRan).toBe(false)
    expect(second).toMatchObject({ name: 'BrokenCircuitError' })
    slow.resolve('recovered')
    expect(await probe).toBe('recovered')
  })

  it('an option spelled out as undefined keeps its default; a hard limit of 1 needs no soft limit', () => {
    expect(llmGuard({ timeout: { totalMs: undefined } }).timeout!.totalMs).toBe(300_000)
    expect(llmGuard({ retry: { maxAttempts: undefined } }).retry!.maxAttempts).toBe(3)
    expect(llmGuard({ backpressure: { hardLimit: 1 } }).backpressure).toMatchObject({
      hardLimit: 1,
      softLimit: undefined,
    })
  })
})
