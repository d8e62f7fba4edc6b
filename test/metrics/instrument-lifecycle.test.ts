import { Counter, Gauge, Histogram, register as globalRegistry, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { EventEmitter } from '../../src/core/events.js'
import { instrument } from '../../src/metrics/instrument.js'
import { METRIC_SPECS } from '../../src/metrics/metric-set.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, httpError } from '../helpers/deferred.js'
import { samples, value } from './read-metrics.js'

const P = 'breakwater_'

async function failOnce(guard: { execute(fn: () => unknown): Promise<unknown> }): Promise<void> {
  await guard.execute(() => Promise.reject(httpError(503))).catch(() => undefined)
}

describe('instrument() lifecycle', () => {
  it('M7 registers every metric eagerly and initialises every known label combination to 0', async () => {
    const clock = testClock()
    const registry = new Registry()
    instrument(registry, llmGuard({ service: 'openai:gpt-4o', clock }), { services: ['anthropic:claude'] })
    const names = registry.getMetricsAsArray().map((m) => m.name)
    expect(names.sort()).toEqual(
      Object.keys(METRIC_SPECS)
        .map((n) => P + n)
        .sort(),
    )

    for (const service of ['openai:gpt-4o', 'anthropic:claude']) {
      const states = (await samples(registry, `${P}circuit_state`)).filter(
        (s) => s.labels.service === service,
      )
      expect(states.map((s) => [s.labels.state, s.value])).toEqual([
        ['closed', 1],
        ['open', 0],
        ['half-open', 0],
      ])
      const transitions = (await samples(registry, `${P}circuit_transitions_total`)).filter(
        (s) => s.labels.service === service,
      )
      expect(transitions.map((s) => `${s.labels.from}>${s.labels.to}=${s.value}`)).toEqual([
        'closed>open=0',
        'open>half-open=0',
        'half-open>closed=0',
        'half-open>open=0',
        'open>closed=0',
      ])
      for (const outcome of ['success', 'failure', 'ignore']) {
        expect(await value(registry, `${P}calls_total`, { service, outcome })).toBe(0)
      }
      expect(await value(registry, `${P}call_duration_seconds_count`, { service })).toBe(0)
      expect(await value(registry, `${P}call_duration_seconds_bucket`, { service, le: '120' })).toBe(0)
      for (const result of ['new', 'joined', 'cached']) {
        expect(await value(registry, `${P}dedupe_requests_total`, { service, result })).toBe(0)
      }
      expect(await value(registry, `${P}retry_attempts_total`, { service, reason: 'server_error' })).toBe(0)
      expect(await value(registry, `${P}retry_budget_exhausted_total`, { service })).toBe(0)
    }
    const shed = await samples(registry, `${P}backpressure_shed_total`)
    expect(shed).toHaveLength(10) // 5 reasons × 2 priorities
    expect(shed.every((s) => s.value === 0)).toBe(true)
    for (const gauge of ['dedupe_entries', 'backpressure_inflight', 'backpressure_queue_depth']) {
      expect(await value(registry, P + gauge)).toBe(0)
    }
    expect(await value(registry, `${P}redis_backend_fallback_active`)).toBe(0)
    expect(await value(registry, `${P}backpressure_soft_limit_total`)).toBe(0)
  })

  it('M8 a second instrument() on the same registry reuses the metrics and does not throw', async () => {
    const clock = testClock()
    const registry = new Registry()
    const a = circuitGuard({ service: 'a', threshold: 5, recoveryMs: 1_000, clock })
    const b = circuitGuard({ service: 'b', threshold: 5, recoveryMs: 1_000, clock })
    instrument(registry, a)
    const before = registry.getSingleMetric(`${P}calls_total`)
    expect(() => instrument(registry, b)).not.toThrow()
    expect(() => instrument(registry, a)).not.toThrow()
    expect(registry.getSingleMetric(`${P}calls_total`)).toBe(before)
    await failOnce(a)
    await failOnce(b)
    // `a` was given to two calls and is still counted once.
    expect(await value(registry, `${P}calls_total`, { service: 'a', outcome: 'failure' })).toBe(1)
    expect(await value(registry, `${P}calls_total`, { service: 'b', outcome: 'failure' })).toBe(1)
  })

  it('M9 dispose() stops counting and sampling; other instrumentations keep theirs', async () => {
    const clock = testClock()
    const registry = new Registry()
    const guard = circuitGuard({ service: 'llm', threshold: 5, recoveryMs: 1_000, clock })
    const bp = backpressureGuard({ hardLimit: 4 })
    const first = instrument(registry, guard, bp)
    const second = instrument(registry, guard)
    await failOnce(guard)
    const gate = deferred()
    const held = bp.execute(() => gate.promise)
    expect(await value(registry, `${P}backpressure_inflight`)).toBe(1)

    first.dispose()
    first.dispose() // idempotent
    expect(await value(registry, `${P}backpressure_inflight`)).toBe(0) // no longer sampled
    await failOnce(guard) // still counted: `second` holds the subscription
    expect(await value(registry, `${P}calls_total`, { service: 'llm', outcome: 'failure' })).toBe(2)

    second.dispose()
    let asked = 0
    const state = guard.state.bind(guard)
    guard.state = (service?: string) => {
      asked++
      return state(service)
    }
    await registry.metrics()
    expect(asked).toBe(0) // a disposed guard is no longer asked for its state on scrape
    await failOnce(guard)
    await bp.execute(() => 'ok')
    expect(await value(registry, `${P}calls_total`, { service: 'llm', outcome: 'failure' })).toBe(2)
    gate.resolve()
    await held
  })

  it('M10 never touches the global registry; a prefix gives separate metrics', async () => {
    const globalBefore = globalRegistry.getMetricsAsArray().length
    const registry = new Registry()
    const guard = llmGuard()
    instrument(registry, guard)
    instrument(registry, guard, { prefix: 'app_llm_' })
    expect(globalRegistry.getMetricsAsArray().length).toBe(globalBefore)
    expect(registry.getSingleMetric('app_llm_circuit_state')).toBeDefined()
    expect(registry.getSingleMetric(`${P}circuit_state`)).toBeDefined()
    expect(registry.getMetricsAsArray()).toHaveLength(2 * Object.keys(METRIC_SPECS).length)
  })

  it('M11 a metric registered by someone else is reused when compatible, refused when not', async () => {
    const registry = new Registry()
    // Same name, type and labels (e.g. from another copy of breakwater): reused, and still counted.
    new Counter({
      name: `${P}calls_total`,
      help: 'x',
      labelNames: ['service', 'outcome'],
      registers: [registry],
    })
    const histogram = new Histogram({
      name: `${P}call_duration_seconds`,
      help: 'x',
      labelNames: ['service'],
      registers: [registry],
    })
    const clock = testClock()
    const guard = circuitGuard({ service: 'llm', threshold: 5, recoveryMs: 1_000, clock })
    instrument(registry, guard)
    await failOnce(guard)
    expect(await value(registry, `${P}calls_total`, { service: 'llm', outcome: 'failure' })).toBe(1)
    expect(registry.getSingleMetric(`${P}call_duration_seconds`)).toBe(histogram)
    expect(await value(registry, `${P}call_duration_seconds_count`, { service: 'llm' })).toBe(1)

    const clash = new Registry()
    new Gauge({ name: `${P}calls_total`, help: 'x', registers: [clash] })
    expect(() => instrument(clash, guard)).toThrow(/breakwater_calls_total.*gauge.*prefix/)
  })

  it('M12 invalid arguments throw TypeError/RangeError naming what is wrong', () => {
    const registry = new Registry()
    const guard = llmGuard()
    expect(() => instrument(undefined as unknown as Registry, guard)).toThrow(TypeError)
    expect(() => instrument(undefined as unknown as Registry)).toThrow(
      /registry must be a prom-client Registry/,
    )
    expect(() => instrument(registry, 42 as never)).toThrow(/argument 2 must be a guard.*got number 42/)
    expect(() => instrument(registry, guard, { prefix: '9lives_' })).toThrow(RangeError)
    expect(() => instrument(registry, guard, { prefix: '9lives_' })).toThrow(/"prefix"/)
    expect(() => instrument(registry, guard, { durationBuckets: [2, 1] })).toThrow(RangeError)
    expect(() => instrument(registry, guard, { durationBuckets: 'x' as never })).toThrow(TypeError)
    expect(() => instrument(registry, guard, { services: 'llm' as never })).toThrow(/"services"/)
    expect(() => instrument(registry, guard, { prefix: '' })).not.toThrow()
  })

  it('M13 a foreign object with the same events is recognised by shape', async () => {
    const registry = new Registry()
    const retries = new EventEmitter<{ service: string; reason: string }>()
    const foreign = { onRetry: retries.addListener }
    const metrics = instrument(registry, foreign)
    retries.emit({ service: 'x', reason: 'network' })
    expect(await value(registry, `${P}retry_attempts_total`, { service: 'x', reason: 'network' })).toBe(1)
    metrics.dispose()
    expect(retries.size).toBe(0)
  })
})
