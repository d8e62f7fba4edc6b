import { describe, expect, it } from 'vitest'
import { InMemoryCircuitBackend } from '../../src/circuit/backends/memory-backend.js'
import type { StateChange } from '../../src/circuit/circuit-backend.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CircuitOutcomeEvent, CircuitRejectEvent } from '../../src/circuit/circuit-options.js'
import { compose } from '../../src/core/compose.js'
import { BackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { BrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'
import { fail, openIt, outcome, R, retryAfter, setup, succeed } from './guard-kit.js'

describe('C4 per-service state', () => {
  it('C4 two guards on one backend share a service; other services never interfere', async () => {
    const clock = testClock()
    const backend = new InMemoryCircuitBackend({ clock })
    const a = circuitGuard({ threshold: 2, recoveryMs: R, backend, clock, service: 'anthropic' })
    const b = circuitGuard({ threshold: 2, recoveryMs: R, backend, clock, service: 'anthropic' })
    await fail(a)
    await fail(b)
    expect(await succeed(a)).toBeInstanceOf(BrokenCircuitError)
    expect(await succeed(b, 'openai')).toBe('ok:ok') // the call's service wins over the guard's
    expect(await b.state('openai')).toBe('closed')
  })

  it('C4 guards without a shared backend never share state', async () => {
    const a = setup({ threshold: 1 }).g
    const b = setup({ threshold: 1 }).g
    await fail(a)
    expect([await a.state(), await b.state()]).toEqual(['open', 'closed'])
  })

  it('C4 a guard on a bounded backend keeps at most maxServices', async () => {
    const backend = new InMemoryCircuitBackend({ maxServices: 10, clock: testClock() })
    const g = circuitGuard({ threshold: 2, recoveryMs: R, backend })
    for (let i = 0; i < 50; i++) await fail(g, httpError(500), `model-${i}`)
    expect(backend.size).toBe(10)
    expect(backend.has('model-49')).toBe(true)
  })
})

describe('C5 outcomes', () => {
  it('C5 a 400 or 401 counts as success: it resets the count and closes a half-open breaker', async () => {
    const { g, clock } = setup()
    await fail(g)
    await fail(g)
    await fail(g, httpError(400))
    expect(await g.failureCount()).toBe(0)
    await openIt(g)
    await clock.advance(R)
    await fail(g, httpError(401))
    expect(await g.state()).toBe('closed')
  })

  it('C5 aborts and our own rejections (shed, broken circuit) are ignored; timeouts count', async () => {
    const { g } = setup({ threshold: 2 })
    await fail(g)
    const controller = new AbortController()
    const aborted = g.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('x')))),
      { signal: controller.signal },
    )
    controller.abort()
    await outcome(aborted)
    await fail(g, new BackpressureShedError({ depth: 1, capacity: 1, reason: 'hard_limit' }))
    await fail(g, new BrokenCircuitError('inner', 5))
    expect(await g.failureCount()).toBe(1)
    await fail(g, new TimeoutError('attempt', 10))
    expect(await g.state()).toBe('open')
  })

  it('C5 a total timeout inside the breaker counts as a failure, even on a later attempt', async () => {
    const clock = testClock()
    const g = circuitGuard({ threshold: 2, recoveryMs: R, clock })
    const chain = compose(
      retryGuard({ maxAttempts: 2, baseDelayMs: 0, clock }),
      g,
      timeoutGuard({ totalMs: 100, clock }),
    )
    const call = outcome(
      chain.execute(({ attempt, signal }) =>
        attempt === 1
          ? Promise.reject(httpError(503))
          : new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ),
    )
    await clock.advance(100)
    expect(await call).toMatchObject({ kind: 'total' })
    expect(await g.state()).toBe('open')
  })

  it("C5 a custom classify decides; the caller's abort is still ignored", async () => {
    const { g } = setup({
      threshold: 1,
      classify: (e) => ((e as Error).message === 'bad' ? 'failure' : 'ignore'),
    })
    await fail(g, new Error('meh'))
    expect(await g.state()).toBe('closed')
    await fail(g, new Error('bad'))
    expect(await g.state()).toBe('open')
  })

  it("C5 a held stream's failure is reported when the hold settles, not when fn returns", async () => {
    const { g } = setup({ threshold: 1 })
    const stream = deferred()
    const value = await g.execute((ctx) => {
      ctx.hold(stream.promise)
      return 'stream'
    })
    expect(value).toBe('stream')
    expect(await g.state()).toBe('closed')
    stream.reject(Object.assign(new Error('mid-stream'), { type: 'overloaded_error' }))
    await flush()
    expect(await g.state()).toBe('open')
  })

  it('C5 a held probe keeps the lease (renewed) until the hold settles', async () => {
    const { g, clock } = setup({ probeLeaseMs: 3_000 })
    await openIt(g)
    await clock.advance(R)
    const stream = deferred()
    await g.execute((ctx) => ctx.hold(stream.promise))
    await clock.advance(60_000)
    expect(await succeed(g)).toBeInstanceOf(BrokenCircuitError)
    stream.resolve()
    await flush()
    expect([await g.state(), clock.pending]).toEqual(['closed', 0]) // no renewal timer left
  })
})

describe('D6 cooldown from Retry-After', () => {
  it('D6 a 429 with Retry-After opens for that long, capped at maxRecoveryMs, without counting', async () => {
    const { g, clock } = setup({ maxRecoveryMs: 20_000 })
    await fail(g, httpError(429, { 'retry-after': '7' }))
    expect([await g.state(), await g.failureCount(), await retryAfter(g)]).toEqual(['open', 0, 7_000])
    await clock.advance(7_000)
    await succeed(g)
    await fail(g, httpError(529, { 'retry-after-ms': '1800000' })) // a 30-minute ask
    expect(await retryAfter(g)).toBe(20_000)
  })

  it('D6 honorRetryAfter: false leaves the breaker alone', async () => {
    const { g } = setup({ honorRetryAfter: false })
    await fail(g, httpError(429, { 'retry-after': '7' }))
    expect(await g.state()).toBe('closed')
  })
})

describe('C6 events', () => {
  it('C6 onStateChange, onReject and onOutcome describe what happened', async () => {
    const { g, clock } = setup({ service: 'svc', threshold: 1 })
    const changes: StateChange[] = []
    const rejects: CircuitRejectEvent[] = []
    const outcomes: CircuitOutcomeEvent[] = []
    g.onStateChange((e) => changes.push(e))
    g.onReject((e) => rejects.push(e))
    const sub = g.onOutcome((e) => outcomes.push(e))
    const slow = deferred()
    const call = g.execute(() => slow.promise)
    await clock.advance(250)
    slow.reject(httpError(500))
    await outcome(call)
    await succeed(g)
    await clock.advance(R)
    await fail(g, httpError(404))
    sub.dispose()
    await succeed(g)
    expect(changes).toEqual([
      { service: 'svc', from: 'closed', to: 'open' },
      { service: 'svc', from: 'open', to: 'half-open' },
      { service: 'svc', from: 'half-open', to: 'closed' },
    ])
    expect(rejects).toEqual([{ service: 'svc', state: 'open', retryAfterMs: R, reason: 'open' }])
    expect(outcomes.map(({ outcome, durationMs }) => [outcome, durationMs])).toEqual([
      ['failure', 250],
      ['success', 0],
    ])
    expect(outcomes[1]!.error).toMatchObject({ status: 404 })
  })

  it('C2 a retry guard outside does not retry a BrokenCircuitError', async () => {
    const { g } = setup({ threshold: 1 })
    await fail(g)
    let calls = 0
    const chain = compose(retryGuard({ maxAttempts: 5, baseDelayMs: 0 }), g)
    expect(await outcome(chain.execute(() => calls++))).toBeInstanceOf(BrokenCircuitError)
    expect(calls).toBe(0)
  })
})
