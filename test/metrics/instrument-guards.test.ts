import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { instrument } from '../../src/metrics/instrument.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'
import { byLabel, value } from './read-metrics.js'

const P = 'breakwater_'

describe('metrics from guard events', () => {
  it('M1 circuit_state is open=1 closed=0 after 3 failures; transitions and calls follow the breaker', async () => {
    const clock = testClock()
    const circuit = circuitGuard({ service: 'llm', threshold: 3, recoveryMs: 1_000, clock })
    const registry = new Registry()
    const metrics = instrument(registry, circuit)
    const states = () => byLabel(registry, `${P}circuit_state`, 'state', { service: 'llm' })
    expect(await states()).toEqual({ closed: 1, open: 0, 'half-open': 0 })

    for (let i = 0; i < 3; i++) {
      const call = circuit.execute(async () => {
        await clock.sleep(250)
        throw httpError(503)
      })
      const settled = expect(call).rejects.toMatchObject({ status: 503 })
      await clock.advance(250)
      await settled
    }
    expect(await states()).toEqual({ closed: 0, open: 1, 'half-open': 0 })
    const transition = (from: string, to: string) =>
      value(registry, `${P}circuit_transitions_total`, { service: 'llm', from, to })
    expect(await transition('closed', 'open')).toBe(1)
    expect(await byLabel(registry, `${P}calls_total`, 'outcome', { service: 'llm' })).toEqual({
      success: 0,
      failure: 3,
      ignore: 0,
    })
    expect(await value(registry, `${P}call_duration_seconds_count`, { service: 'llm' })).toBe(3)
    expect(await value(registry, `${P}call_duration_seconds_sum`, { service: 'llm' })).toBeCloseTo(0.75)
    expect(await value(registry, `${P}call_duration_seconds_bucket`, { service: 'llm', le: '0.25' })).toBe(3)
    expect(await value(registry, `${P}call_duration_seconds_bucket`, { service: 'llm', le: '0.1' })).toBe(0)

    // A rejected call never reached upstream: not a call.
    await expect(circuit.execute(() => 'never')).rejects.toSatisfy(isBrokenCircuitError)
    expect(await value(registry, `${P}calls_total`, { service: 'llm', outcome: 'failure' })).toBe(3)

    // The in-memory breaker turns half-open when asked: a scrape asks.
    await clock.advance(1_000)
    expect(await states()).toEqual({ closed: 0, open: 0, 'half-open': 1 })
    expect(await transition('open', 'half-open')).toBe(1)
    expect(await circuit.execute(() => 'probe ok')).toBe('probe ok')
    expect(await states()).toEqual({ closed: 1, open: 0, 'half-open': 0 })
    expect(await transition('half-open', 'closed')).toBe(1)
    expect(await value(registry, `${P}calls_total`, { service: 'llm', outcome: 'success' })).toBe(1)
    metrics.dispose()
  })

  it('M2 retry_attempts_total counts each retry by reason, retry_budget_exhausted_total each refusal', async () => {
    const clock = testClock()
    const retry = retryGuard({ service: 'llm', maxAttempts: 3, baseDelayMs: 100, jitter: 'none', clock })
    const starved = retryGuard({
      service: 'batch',
      maxAttempts: 3,
      clock,
      budget: retryBudget({ ratio: 0, minPerSecond: 0, clock }),
    })
    const registry = new Registry()
    instrument(registry, retry, starved)

    const call = retry.execute((ctx) => {
      if (ctx.attempt === 1) throw httpError(503)
      if (ctx.attempt === 2) throw httpError(429)
      return 'ok'
    })
    await clock.advance(100)
    await clock.advance(200)
    expect(await call).toBe('ok')
    const reasons = await byLabel(registry, `${P}retry_attempts_total`, 'reason', { service: 'llm' })
    expect(reasons).toMatchObject({ server_error: 1, rate_limited: 1, overloaded: 0, network: 0 })

    await expect(
      starved.execute(() => {
        throw httpError(503)
      }),
    ).rejects.toMatchObject({ status: 503 })
    expect(await value(registry, `${P}retry_budget_exhausted_total`, { service: 'batch' })).toBe(1)
    expect(await value(registry, `${P}retry_budget_exhausted_total`, { service: 'llm' })).toBe(0)
    expect(
      await value(registry, `${P}retry_attempts_total`, { service: 'batch', reason: 'server_error' }),
    ).toBe(0)
  })

  it('M3 backpressure_shed_total by reason and priority, soft-limit crossings, in-flight and queue gauges', async () => {
    const shedding = backpressureGuard({ hardLimit: 2, softLimit: 1, softAction: 'shed-background' })
    const queueing = backpressureGuard({ hardLimit: 1, maxQueue: 2 })
    const registry = new Registry()
    instrument(registry, shedding, queueing)
    const gate = deferred<string>()

    const first = shedding.execute(() => gate.promise)
    await expect(shedding.execute(() => 'x', { priority: 'background' })).rejects.toMatchObject({
      reason: 'soft_limit',
    })
    const second = shedding.execute(() => gate.promise) // admitted at depth 1 ≥ softLimit
    await expect(shedding.execute(() => 'x')).rejects.toSatisfy(isBackpressureShedError)
    const running = queueing.execute(() => gate.promise)
    const waiting = queueing.execute(() => gate.promise)
    await flush()

    const shed = (reason: string, priority: string) =>
      value(registry, `${P}backpressure_shed_total`, { reason, priority })
    expect(await shed('soft_limit', 'background')).toBe(1)
    expect(await shed('hard_limit', 'foreground')).toBe(1)
    expect(await shed('queue_full', 'foreground')).toBe(0)
    expect(await value(registry, `${P}backpressure_soft_limit_total`)).toBe(1)
    expect(await value(registry, `${P}backpressure_inflight`)).toBe(3) // summed over both guards
    expect(await value(registry, `${P}backpressure_queue_depth`)).toBe(1)

    gate.resolve('done')
    await Promise.all([first, second, running, waiting])
    expect(await value(registry, `${P}backpressure_inflight`)).toBe(0)
    expect(await value(registry, `${P}backpressure_queue_depth`)).toBe(0)
  })

  it('M4 dedupe_requests_total counts new, joined and cached calls; dedupe_entries samples the guard', async () => {
    const clock = testClock()
    const dedupe = dedupeGuard({ service: 'llm', ttlMs: 1_000, clock })
    const registry = new Registry()
    instrument(registry, dedupe)
    const gate = deferred<string>()
    let upstream = 0
    const fn = () => {
      upstream++
      return gate.promise
    }

    const calls = [1, 2, 3].map(() => dedupe.execute(fn, { key: 'same prompt' }))
    expect(await value(registry, `${P}dedupe_entries`)).toBe(1)
    gate.resolve('answer')
    expect(await Promise.all(calls)).toEqual(['answer', 'answer', 'answer'])
    expect(await dedupe.execute(fn, { key: 'same prompt' })).toBe('answer')
    expect(upstream).toBe(1)
    expect(await byLabel(registry, `${P}dedupe_requests_total`, 'result', { service: 'llm' })).toEqual({
      new: 1,
      joined: 2,
      cached: 1,
    })
    expect(await value(registry, `${P}dedupe_entries`)).toBe(1) // the kept result
    await clock.advance(1_001)
    await dedupe.execute(fn, { key: 'other' })
    expect(await value(registry, `${P}dedupe_entries`)).toBe(1) // expired, replaced by the new result
  })

  it('M5 in a composition, calls_total counts each upstream attempt once (retries included)', async () => {
    const clock = testClock()
    const guard = llmGuard({ service: 'openai:gpt-4o', clock, retry: { baseDelayMs: 100, jitter: 'none' } })
    const registry = new Registry()
    instrument(registry, guard, guard.circuit!) // the breaker given twice is still counted once
    let attempts = 0
    const call = guard.execute(() => (++attempts < 3 ? Promise.reject(httpError(503)) : 'ok'))
    await clock.advance(100)
    await clock.advance(200)
    expect(await call).toBe('ok')
    expect(attempts).toBe(3)
    expect(await byLabel(registry, `${P}calls_total`, 'outcome', { service: 'openai:gpt-4o' })).toEqual({
      success: 1,
      failure: 2,
      ignore: 0,
    })
    expect(await value(registry, `${P}call_duration_seconds_count`, { service: 'openai:gpt-4o' })).toBe(3)
    expect(
      await value(registry, `${P}retry_attempts_total`, { service: 'openai:gpt-4o', reason: 'server_error' }),
    ).toBe(2)
  })

  it('M6 services are learned from events: a call naming a new service gets all its series', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock })
    const registry = new Registry()
    instrument(registry, guard)
    expect(await value(registry, `${P}circuit_state`, { service: 'anthropic:claude', state: 'closed' })).toBe(
      undefined,
    )
    await guard.execute(() => 'ok', { service: 'anthropic:claude', key: 'k' })
    expect(await byLabel(registry, `${P}circuit_state`, 'state', { service: 'anthropic:claude' })).toEqual({
      closed: 1,
      open: 0,
      'half-open': 0,
    })
    expect(
      await value(registry, `${P}calls_total`, { service: 'anthropic:claude', outcome: 'success' }),
    ).toBe(1)
    expect(
      await value(registry, `${P}dedupe_requests_total`, { service: 'anthropic:claude', result: 'new' }),
    ).toBe(1)
    expect(
      await value(registry, `${P}retry_attempts_total`, {
        service: 'anthropic:claude',
        reason: 'rate_limited',
      }),
    ).toBe(0)
  })
})
