import { describe, expect, it } from 'vitest'
import { InMemoryCircuitBackend } from '../../src/circuit/backends/memory-backend.js'
import type { StateChange } from '../../src/circuit/circuit-backend.js'
import { circuitGuard, type CircuitGuard } from '../../src/circuit/circuit-guard.js'
import type {
  CircuitOptions,
  CircuitOutcomeEvent,
  CircuitRejectEvent,
} from '../../src/circuit/circuit-options.js'
import { compose } from '../../src/core/compose.js'
import { BackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { BrokenCircuitError, isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { TimeoutError } from '../../src/core/errors/timeout-error.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'

const R = 1_000

function setup(o: Partial<CircuitOptions> = {}): { clock: TestClock; g: CircuitGuard } {
  const clock = testClock()
  return { clock, g: circuitGuard({ threshold: 3, recoveryMs: R, clock, ...o }) }
}

/** What the call threw (or 'ok:<value>'). */
const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => `ok:${String(v)}`,
    (e: unknown) => e,
  )
const fail = (g: CircuitGuard, error: unknown = httpError(503), service?: string) =>
  outcome(g.execute(() => Promise.reject(error), service === undefined ? undefined : { service }))
const succeed = (g: CircuitGuard, service?: string) =>
  outcome(g.execute(() => 'ok', service === undefined ? undefined : { service }))
async function openIt(g: CircuitGuard): Promise<void> {
  for (let i = 0; i < g.config.threshold; i++) await fail(g)
  expect(await g.state()).toBe('open')
}
const retryAfter = async (g: CircuitGuard): Promise<number> =>
  (await g.backend.snapshot('default', g.config)).retryAfterMs

describe('C1 closed → open → half-open → closed', () => {
  it('C1 opens after threshold consecutive failures, not before', async () => {
    const { g } = setup()
    await fail(g)
    await fail(g)
    expect([await g.state(), await g.failureCount()]).toEqual(['closed', 2])
    await fail(g)
    expect(await g.state()).toBe('open')
  })

  it('C1 failure rate counts only the last windowMs and needs minCalls', async () => {
    const { g, clock } = setup({ threshold: 100, failureRate: { ratio: 0.6, minCalls: 5, windowMs: 10_000 } })
    await fail(g)
    await fail(g)
    await fail(g)
    await clock.advance(10_000) // those three slide out of the window
    await succeed(g)
    await succeed(g)
    await fail(g)
    await fail(g)
    expect(await g.state()).toBe('closed') // 2 of 4: below minCalls and below the ratio
    await fail(g) // 3 of 5 = 0.6
    expect(await g.state()).toBe('open')
  })

  it('C1 turns half-open exactly after recoveryMs and a successful probe closes it', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R - 1)
    expect(await g.state()).toBe('open')
    await clock.advance(1)
    expect(await g.state()).toBe('half-open')
    expect(await succeed(g)).toBe('ok:ok')
    expect([await g.state(), await g.failureCount()]).toEqual(['closed', 0])
  })

  it('C1 repeated opens back off: recoveryMs · 2^k with equal jitter, capped at maxRecoveryMs', async () => {
    const opens = async (random: () => number): Promise<number[]> => {
      const { g, clock } = setup({ maxRecoveryMs: 5 * R, random })
      await openIt(g)
      const seen = [await retryAfter(g)]
      for (let i = 0; i < 4; i++) {
        await clock.advance(seen[seen.length - 1]!)
        await fail(g) // the probe fails
        seen.push(await retryAfter(g))
      }
      return seen
    }
    expect(await opens(() => 1)).toEqual([R, 2 * R, 4 * R, 5 * R, 5 * R])
    expect(await opens(() => 0)).toEqual([R, R, 2 * R, 4 * R, 5 * R])
    expect(await opens(() => 0.5)).toEqual([R, 1.5 * R, 3 * R, 5 * R, 5 * R])
  })

  it('C1 halfOpenSuccesses probes, one at a time, close it; a failed one reopens it', async () => {
    const { g, clock } = setup({ halfOpenSuccesses: 2, random: () => 1 })
    await openIt(g)
    await clock.advance(R)
    await succeed(g)
    expect(await g.state()).toBe('half-open')
    await fail(g)
    expect([await g.state(), await retryAfter(g)]).toEqual(['open', 2 * R])
    await clock.advance(2 * R)
    await succeed(g)
    await succeed(g)
    expect(await g.state()).toBe('closed')
  })
})

describe('C2 open fails fast', () => {
  it('C2 rejects with BrokenCircuitError(service, retryAfterMs) without calling fn', async () => {
    const { g, clock } = setup({ service: 'openai:gpt' })
    for (let i = 0; i < 3; i++) await fail(g)
    await clock.advance(400)
    let calls = 0
    const error = await outcome(g.execute(() => calls++))
    expect(calls).toBe(0)
    expect(error).toBeInstanceOf(BrokenCircuitError)
    expect(error).toMatchObject({ service: 'openai:gpt', retryAfterMs: R - 400 })
  })

  it('C2 an isolated breaker stays open with an infinite retryAfterMs until reset', async () => {
    const { g, clock } = setup()
    await g.isolate()
    await clock.advance(1_000 * R)
    const error = await succeed(g)
    expect(error).toMatchObject({ retryAfterMs: Number.POSITIVE_INFINITY })
    expect(String(error)).toMatch(/isolated/)
    await g.reset()
    expect(await succeed(g)).toBe('ok:ok')
  })
})

describe('C3 one probe at a time', () => {
  it('C3 a second caller fails fast while the probe is pending', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R)
    const order: string[] = []
    const probe = deferred<string>()
    const first = g.execute(() => probe.promise).then((v) => order.push(`probe ${v}`))
    const second = g
      .execute(() => 'second')
      .catch((e: unknown) => {
        order.push(isBrokenCircuitError(e) ? `rejected ${e.retryAfterMs}` : 'other')
      })
    await second
    expect(order).toEqual(['rejected 0'])
    probe.resolve('ok')
    await first
    expect(order).toEqual(['rejected 0', 'probe ok'])
    expect(await g.state()).toBe('closed')
  })

  it('C3 a probe ignored by classification (429 without Retry-After) releases its lease', async () => {
    const { g, clock } = setup()
    await openIt(g)
    await clock.advance(R)
    expect(await fail(g, httpError(429))).toMatchObject({ status: 429 })
    expect(await g.state()).toBe('half-open')
    let ran = false
    await g.execute(() => (ran = true))
    expect([ran, await g.state()]).toEqual([true, 'closed'])
  })

  it('C3 an expired lease lets the next caller probe; the late prober does not count', async () => {
    const { g, clock } = setup({ probeLeaseMs: 5_000 })
    await openIt(g)
    await clock.advance(R)
    const hung = deferred<string>()
    const first = g.execute(() => hung.promise)
    await clock.advance(5_000)
    const second = deferred<string>()
    const next = g.execute(() => second.promise)
    hung.reject(httpError(500)) // the stale probe's failure is not counted
    await outcome(first)
    expect(await g.state()).toBe('half-open')
    second.resolve('fine')
    expect(await next).toBe('fine')
    expect(await g.state()).toBe('closed')
  })
})

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
    expect(rejects).toEqual([{ service: 'svc', state: 'open', retryAfterMs: R }])
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
