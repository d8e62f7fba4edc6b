import { SpanStatusCode, trace } from '@opentelemetry/api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import { ResilienceError, type ResilienceErrorCode } from '../../src/core/errors/resilience-error.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { traceRateLimited } from '../../src/telemetry/span-events.js'
import { setTracing } from '../../src/telemetry/tracer.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, httpError } from '../helpers/deferred.js'
import { eventsOf, type Otel, registerOtel } from './otel-fixture.js'

let otel: Otel
beforeEach(() => {
  otel = registerOtel()
})
afterEach(async () => {
  await otel.stop()
})

describe('breakwater.call spans (OpenTelemetry SDK, in-memory exporter)', () => {
  it('O1 a retried call is one span: attempts, outcome, a retry event per retry, the SDK span nested inside', async () => {
    const clock = testClock()
    const guard = llmGuard({ service: 'openai:gpt-4o', clock, retry: { jitter: 'none', baseDelayMs: 100 } })
    let calls = 0
    const done = guard.execute(() =>
      trace.getTracer('sdk').startActiveSpan('POST /v1/chat/completions', (http) => {
        http.end()
        if (++calls < 3) throw httpError(503)
        return 'answer'
      }),
    )
    await flush()
    await clock.advance(100)
    await clock.advance(200)
    await expect(done).resolves.toBe('answer')

    const span = otel.callSpan()
    expect(span.instrumentationScope.name).toBe('breakwater')
    expect(span.attributes).toMatchObject({
      'breakwater.service': 'openai:gpt-4o',
      'breakwater.attempts': 3,
      'breakwater.outcome': 'success',
    })
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
    expect(eventsOf(span)).toEqual([
      ['breakwater.retry', { attempt: 1, delay_ms: 100, reason: 'server_error' }],
      ['breakwater.retry', { attempt: 2, delay_ms: 200, reason: 'server_error' }],
    ])
    const http = otel.spans('POST /v1/chat/completions')
    expect(http).toHaveLength(3)
    for (const s of http) {
      expect(s.parentSpanContext?.spanId).toBe(span.spanContext().spanId)
      expect(s.spanContext().traceId).toBe(span.spanContext().traceId)
    }
  })

  it('O2 a call refused by an open breaker: status ERROR, outcome circuit_open, a circuit_rejected event, no attempt', async () => {
    const guard = compose(retryGuard({ maxAttempts: 3 }), circuitGuard({ threshold: 1, recoveryMs: 60_000 }))
    await expect(
      guard.execute(() => Promise.reject(httpError(400)), { service: 'anthropic:claude' }),
    ).rejects.toThrow()
    const breaker = circuitGuard({ service: 'anthropic:claude', threshold: 1, recoveryMs: 60_000 })
    await breaker.isolate()
    otel.exporter.reset()
    await expect(
      compose(retryGuard({ maxAttempts: 3 }), breaker).execute(() => 'never', {
        service: 'anthropic:claude',
      }),
    ).rejects.toMatchObject({ name: 'BrokenCircuitError' })

    const span = otel.callSpan()
    expect(span.attributes).toMatchObject({
      'breakwater.service': 'anthropic:claude',
      'breakwater.attempts': 0,
      'breakwater.outcome': 'circuit_open',
      'error.type': 'BREAKWATER_BROKEN_CIRCUIT',
    })
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.status.message).toContain('isolated')
    expect(eventsOf(span)).toContainEqual([
      'breakwater.circuit_rejected',
      { reason: 'isolated', state: 'open' },
    ])
    expect(eventsOf(span).map(([name]) => name)).not.toContain('breakwater.retry')
  })

  it('O3 a call shed by backpressure: status ERROR, outcome shed, a shed event with reason and priority', async () => {
    const guard = compose(backpressureGuard({ service: 'openai:gpt-4o', hardLimit: 1 }))
    const busy = deferred<string>()
    const first = guard.execute(() => busy.promise)
    await expect(guard.execute(() => 'never', { priority: 'background' })).rejects.toMatchObject({
      name: 'BackpressureShedError',
    })
    busy.resolve('ok')
    await first

    const [shed, admitted] = otel.spans('breakwater.call')
    expect(shed!.attributes).toMatchObject({ 'breakwater.outcome': 'shed', 'breakwater.attempts': 0 })
    expect(shed!.status.code).toBe(SpanStatusCode.ERROR)
    expect(eventsOf(shed!)).toEqual([
      ['breakwater.shed', { reason: 'hard_limit', priority: 'background', depth: 1, capacity: 1 }],
    ])
    expect(admitted!.attributes).toMatchObject({ 'breakwater.outcome': 'success', 'breakwater.attempts': 1 })
    expect(admitted!.events).toEqual([])
  })

  it('O4 dedupe: the leader and the joiner each have a span with their dedupe result; only the leader made an attempt', async () => {
    const guard = compose(dedupeGuard({ ttlMs: 0 }), retryGuard({ maxAttempts: 2 }))
    const upstream = deferred<string>()
    const leader = guard.execute(() => upstream.promise, { key: 'k', service: 'openai:gpt-4o' })
    const joiner = guard.execute(() => 'never', { key: 'k', service: 'openai:gpt-4o' })
    upstream.resolve('shared')
    await expect(Promise.all([leader, joiner])).resolves.toEqual(['shared', 'shared'])
    const spans = otel.spans('breakwater.call')
    expect(spans.map((s) => [eventsOf(s), s.attributes['breakwater.attempts']])).toEqual([
      [[['breakwater.dedupe', { result: 'new' }]], 1],
      [[['breakwater.dedupe', { result: 'joined' }]], 0],
    ])
  })

  it('O5 a held call (a stream) ends its span when the hold settles, with the stream error as its status', async () => {
    const guard = llmGuard({ timeout: false })
    const stream = deferred()
    await guard.execute((ctx) => {
      ctx.hold(stream.promise)
      return 'first chunk'
    })
    expect(otel.spans('breakwater.call')).toEqual([])
    stream.reject(new Error('stream cut'))
    await flush()
    const span = otel.callSpan()
    expect(span.attributes['breakwater.outcome']).toBe('failure')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stream cut' })
    expect(span.events.map((e) => e.name)).toContain('exception')
  })

  it('O6 breakwater.rate_limited: the hook adds a wait to the running call only; a refusal is told by its error', async () => {
    const guard = compose(retryGuard({ maxAttempts: 1 }))
    traceRateLimited({ limit: 'tokens', waitMs: 5 }) // no call running: nothing
    await guard.execute(() => {
      traceRateLimited({ limit: 'requests', waitMs: 250 })
      return 'ok'
    })
    // A rate limit's refusal (a RateLimitError, code BREAKWATER_RATE_LIMITED) is told by the error.
    const refusal = Object.assign(
      new ResilienceError('BREAKWATER_RATE_LIMITED' as ResilienceErrorCode, 'tokens budget short'),
      { service: 'default', limit: 'tokens', retryAfterMs: 1_000 },
    )
    await expect(guard.execute(() => Promise.reject(refusal))).rejects.toBe(refusal)
    const [waited, refused] = otel.spans('breakwater.call')
    expect(eventsOf(waited!)).toEqual([
      ['breakwater.rate_limited', { limit: 'requests', refused: false, wait_ms: 250 }],
    ])
    expect(refused!.attributes).toMatchObject({
      'breakwater.outcome': 'rate_limited',
      'error.type': 'BREAKWATER_RATE_LIMITED',
    })
    expect(eventsOf(refused!)).toEqual([
      ['breakwater.rate_limited', { limit: 'tokens', refused: true, retry_after_ms: 1_000 }],
    ])
  })

  it('O6 a call that waited for budget in llmGuard({ rateLimit }) gets the wait on its own span', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, rateLimit: { requests: 1, windowMs: 1_000 } })
    const first = guard.execute(() => 'first')
    const second = guard.execute(() => 'second')
    await flush()
    await clock.advance(1_000)
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second'])
    const [went, waited] = otel.spans('breakwater.call')
    expect(eventsOf(went!)).toEqual([])
    expect(eventsOf(waited!)).toEqual([
      ['breakwater.rate_limited', { limit: 'requests', refused: false, wait_ms: 1_000 }],
    ])
  })

  it('O7 setTracing(guard, false) turns the span off for that guard; nested guarded calls nest their spans', async () => {
    const outer = llmGuard({ timeout: false })
    const inner = retryGuard({ maxAttempts: 1 })
    await outer.execute(() => inner.execute(() => 'ok'))
    const [innerSpan, outerSpan] = otel.spans('breakwater.call')
    expect(innerSpan!.parentSpanContext?.spanId).toBe(outerSpan!.spanContext().spanId)

    otel.exporter.reset()
    setTracing(outer, false)
    await outer.execute(() => 'ok')
    expect(otel.spans()).toEqual([])
    setTracing(outer, true)
    await outer.execute(() => 'ok')
    expect(otel.spans('breakwater.call')).toHaveLength(1)
    expect(() => setTracing(outer, 'no' as never)).toThrow(TypeError)
  })

  it('O8 without a registered tracer provider no span is made and calls behave the same', async () => {
    await otel.stop()
    const guard = llmGuard({ timeout: false })
    await expect(guard.execute(() => 'ok')).resolves.toBe('ok')
    expect(trace.getActiveSpan()).toBeUndefined()
    expect(otel.spans()).toEqual([])
    otel = registerOtel()
    await guard.execute(() => 'ok')
    expect(otel.spans('breakwater.call')).toHaveLength(1)
  })
})
