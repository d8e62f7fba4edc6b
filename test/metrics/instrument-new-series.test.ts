import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CallContext, CallOptions } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import { EventEmitter } from '../../src/core/events.js'
import { instrument } from '../../src/metrics/instrument.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'
import { byLabel, value } from './read-metrics.js'

const P = 'breakwater_'

describe('metrics added for observability (rejections, give-ups, calls without a breaker, tokens, rate limits)', () => {
  it('M23 circuit_rejected_total counts each refusal by reason; every reason starts at 0', async () => {
    const registry = new Registry()
    const circuit = circuitGuard({ service: 'openai:gpt-4o', threshold: 1, recoveryMs: 60_000 })
    const metrics = instrument(registry, circuit)
    const rejected = () =>
      byLabel(registry, `${P}circuit_rejected_total`, 'reason', { service: 'openai:gpt-4o' })
    expect(await rejected()).toEqual({ open: 0, 'half-open': 0, isolated: 0, cooldown: 0 })
    await expect(circuit.execute(() => Promise.reject(httpError(500)))).rejects.toThrow()
    for (let i = 0; i < 3; i++) await expect(circuit.execute(() => 'never')).rejects.toThrow(/open/)
    await circuit.isolate()
    await expect(circuit.execute(() => 'never')).rejects.toThrow(/isolated/)
    expect(await rejected()).toEqual({ open: 3, 'half-open': 0, isolated: 1, cooldown: 0 })
    // A refused call never ran: it is not a call.
    expect(await value(registry, `${P}calls_total`, { service: 'openai:gpt-4o', outcome: 'failure' })).toBe(1)
    metrics.dispose()
  })

  it('M24 retry_give_ups_total counts each give-up by what stopped the retries', async () => {
    const registry = new Registry()
    const retry = retryGuard({
      service: 'anthropic:claude',
      maxAttempts: 2,
      baseDelayMs: 0,
      budget: retryBudget({ ratio: 0, minPerSecond: 0 }),
    })
    const generous = retryGuard({ service: 'anthropic:claude', maxAttempts: 2, baseDelayMs: 0 })
    instrument(registry, retry, generous)
    const giveUps = () =>
      byLabel(registry, `${P}retry_give_ups_total`, 'stopped_by', { service: 'anthropic:claude' })
    expect(Object.values(await giveUps())).toEqual([0, 0, 0, 0, 0])
    await expect(retry.execute(() => Promise.reject(httpError(400)))).rejects.toThrow()
    await expect(retry.execute(() => Promise.reject(httpError(503)))).rejects.toThrow()
    await expect(generous.execute(() => Promise.reject(httpError(503)))).rejects.toThrow()
    expect(await giveUps()).toEqual({
      not_retryable: 1,
      max_attempts: 1,
      retry_after_too_long: 0,
      deadline: 0,
      budget_exhausted: 1,
    })
  })

  it('M25 a composition without a breaker counts calls_total and call_duration_seconds once per call; with one, the breaker counts its attempts', async () => {
    const registry = new Registry()
    const clock = testClock()
    const noBreaker = compose(
      retryGuard({ service: 'batch', maxAttempts: 3, baseDelayMs: 10, jitter: 'none', clock }),
      backpressureGuard({ hardLimit: 1 }),
    )
    const withBreaker = llmGuard({ service: 'chat', clock, retry: { baseDelayMs: 10, jitter: 'none' } })
    instrument(registry, noBreaker, withBreaker)
    const calls = (service: string) => byLabel(registry, `${P}calls_total`, 'outcome', { service })
    expect(await calls('batch')).toEqual({ success: 0, failure: 0, ignore: 0 })

    // One call, retried twice: one success.
    let n = 0
    const retried = noBreaker.execute(() => (++n < 3 ? Promise.reject(httpError(503)) : 'ok'))
    await flush()
    await clock.advance(10)
    await clock.advance(20)
    await expect(retried).resolves.toBe('ok')
    // A failure, a 4xx (the provider answered: a success for a breaker), and a shed call (ignored).
    await expect(noBreaker.execute(() => Promise.reject(new Error('bug')))).rejects.toThrow('bug')
    await expect(noBreaker.execute(() => Promise.reject(httpError(404)))).rejects.toThrow()
    const busy = deferred<string>()
    const holding = noBreaker.execute(() => busy.promise)
    await expect(noBreaker.execute(() => 'never')).rejects.toMatchObject({ name: 'BackpressureShedError' })
    busy.resolve('done')
    await holding
    expect(await calls('batch')).toEqual({ success: 3, failure: 1, ignore: 1 })
    expect(await value(registry, `${P}call_duration_seconds_count`, { service: 'batch' })).toBe(5)

    // With a breaker inside, each attempt is counted once by the breaker, never again per call.
    let m = 0
    const attempts = withBreaker.execute(() => (++m < 2 ? Promise.reject(httpError(503)) : 'ok'))
    await flush()
    await clock.advance(10)
    await attempts
    expect(await calls('chat')).toEqual({ success: 1, failure: 1, ignore: 0 })
  })

  it('M26 tokens_total and time_to_first_token_seconds count the provider answers reported to onResponse', async () => {
    const registry = new Registry()
    const metrics = instrument(registry, llmGuard(), { services: ['openai:gpt-4o'] })
    const tokens = (service: string) => byLabel(registry, `${P}tokens_total`, 'kind', { service })
    expect(await tokens('openai:gpt-4o')).toEqual({ input: 0, output: 0 })
    // The shape the provider wrappers' onResponse reports.
    const report = {
      service: 'openai:gpt-4o',
      provider: 'openai',
      model: 'gpt-4o',
      responseModel: 'gpt-4o-2024-08-06',
      operation: 'chat',
      status: 200,
      headers: new Headers(),
      usage: { inputTokens: 120, outputTokens: 30 },
      timeToFirstContentMs: 400,
      durationMs: 2_000,
      stream: true,
      attempt: 1,
    }
    metrics.onResponse(report)
    metrics.onResponse({ ...report, usage: { inputTokens: 80 }, timeToFirstContentMs: 1_500 })
    metrics.onResponse({
      ...report,
      service: 'anthropic:claude',
      usage: undefined,
      timeToFirstContentMs: undefined,
    })
    expect(await tokens('openai:gpt-4o')).toEqual({ input: 200, output: 30 })
    expect(await tokens('anthropic:claude')).toEqual({ input: 0, output: 0 })
    const ttft = (part: string, labels: Record<string, string> = {}) =>
      value(registry, `${P}time_to_first_token_seconds_${part}`, { service: 'openai:gpt-4o', ...labels })
    expect(await ttft('count')).toBe(2)
    expect(await ttft('sum')).toBeCloseTo(1.9)
    expect(await ttft('bucket', { le: '0.5' })).toBe(1)
    metrics.dispose()
    metrics.onResponse(report)
    expect(await tokens('openai:gpt-4o')).toEqual({ input: 200, output: 30 })
  })

  it('M27 fallbacks_total counts requests passed to the next model, by from and to', async () => {
    const registry = new Registry()
    const metrics = instrument(registry, llmGuard())
    metrics.onFallback({ from: 'openai:gpt-4o', to: 'openai:gpt-4o-mini' })
    metrics.onFallback({ from: 'openai:gpt-4o', to: 'openai:gpt-4o-mini' })
    metrics.onFallback({ from: 'openai:gpt-4o-mini', to: 'anthropic:claude' })
    expect(await byLabel(registry, `${P}fallbacks_total`, 'to', { from: 'openai:gpt-4o' })).toEqual({
      'openai:gpt-4o-mini': 2,
    })
    expect(
      await value(registry, `${P}fallbacks_total`, { from: 'openai:gpt-4o-mini', to: 'anthropic:claude' }),
    ).toBe(1)
  })

  it('M28 a rate limit (by shape: onWait, onLimited, remaining) feeds ratelimit_wait_seconds, ratelimit_limited_total and ratelimit_remaining', async () => {
    const waits = new EventEmitter<{ service: string; waitMs: number; priority: string; limit: string }>()
    const limits = new EventEmitter<{
      service: string
      limit: string
      retryAfterMs: number
      priority: string
    }>()
    const left = new Map<string, { requests?: number; tokens?: number; resetMs: number }>([
      ['openai:gpt-4o', { requests: 42, tokens: 9_000, resetMs: 100 }],
    ])
    // What DESIGN L5 names: onWait { service, waitMs }, onLimited { service, limit }, remaining(service).
    const rateLimit = {
      name: 'rateLimit',
      service: 'openai:gpt-4o',
      execute: <T>(fn: (ctx: CallContext) => T | Promise<T>, call?: CallOptions) =>
        retryGuard({ maxAttempts: 1 }).execute(fn, call),
      onWait: waits.addListener,
      onLimited: limits.addListener,
      remaining: (service: string) => Promise.resolve(left.get(service) ?? { resetMs: 0 }),
    }
    const registry = new Registry()
    const metrics = instrument(registry, compose(rateLimit, retryGuard({ maxAttempts: 1 })))
    expect(
      await byLabel(registry, `${P}ratelimit_limited_total`, 'limit', { service: 'openai:gpt-4o' }),
    ).toEqual({
      requests: 0,
      tokens: 0,
    })
    waits.emit({ service: 'openai:gpt-4o', waitMs: 300, priority: 'foreground', limit: 'tokens' })
    waits.emit({ service: 'openai:gpt-4o', waitMs: 2_000, priority: 'background', limit: 'tokens' })
    limits.emit({ service: 'openai:gpt-4o', limit: 'tokens', retryAfterMs: 5_000, priority: 'background' })
    limits.emit({ service: 'openai:o1', limit: 'requests', retryAfterMs: 1_000, priority: 'foreground' })
    expect(await value(registry, `${P}ratelimit_wait_seconds_count`, { service: 'openai:gpt-4o' })).toBe(2)
    expect(await value(registry, `${P}ratelimit_wait_seconds_sum`, { service: 'openai:gpt-4o' })).toBeCloseTo(
      2.3,
    )
    expect(
      await value(registry, `${P}ratelimit_limited_total`, { service: 'openai:gpt-4o', limit: 'tokens' }),
    ).toBe(1)
    expect(
      await value(registry, `${P}ratelimit_limited_total`, { service: 'openai:o1', limit: 'requests' }),
    ).toBe(1)
    expect(await byLabel(registry, `${P}ratelimit_remaining`, 'limit', { service: 'openai:gpt-4o' })).toEqual(
      {
        requests: 42,
        tokens: 9_000,
      },
    )
    left.set('openai:gpt-4o', { requests: 3, resetMs: 100 })
    expect(
      await value(registry, `${P}ratelimit_remaining`, { service: 'openai:gpt-4o', limit: 'requests' }),
    ).toBe(3)
    metrics.dispose()
    waits.emit({ service: 'openai:gpt-4o', waitMs: 300, priority: 'foreground', limit: 'tokens' })
    expect(await value(registry, `${P}ratelimit_wait_seconds_count`, { service: 'openai:gpt-4o' })).toBe(2)
  })
})

describe('structured logging of metrics sources', () => {
  it('M33 a breaker whose state() fails on scrape is logged once with service and error fields, until it answers again', async () => {
    const registry = new Registry()
    const circuit = circuitGuard({ service: 'openai:gpt-4o', threshold: 1, recoveryMs: 60_000 })
    let broken = true
    const realState = circuit.state.bind(circuit)
    circuit.state = (service?: string) =>
      broken ? Promise.reject(new Error('redis down')) : realState(service)
    const logged: [string, Record<string, unknown> | undefined][] = []
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (m: string, f?: Record<string, unknown>) => logged.push([m, f]),
      error: () => {},
    }
    instrument(registry, circuit, { logger })
    await registry.metrics()
    await registry.metrics()
    expect(logged).toEqual([
      [
        'breakwater: a metrics source failed to answer on scrape; its series keeps its last value',
        {
          component: 'instrument',
          metric: 'circuit_state',
          service: 'openai:gpt-4o',
          error: 'redis down',
          errorName: 'Error',
        },
      ],
    ])
    broken = false
    await registry.metrics()
    broken = true
    await registry.metrics()
    expect(logged).toHaveLength(2)
    expect(() => instrument(new Registry(), circuit, { logger: {} as never })).toThrow(/option "logger"/)
  })
})
