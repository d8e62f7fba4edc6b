/**
 * Subscriptions to the guards' events. Each listener is a map lookup and an addition (the numbers
 * reach prom-client on scrape), and never throws: an exception here would surface in the guard.
 */
import type { IDisposable } from '../core/events.js'
import type { MetricHub, Release } from './metric-hub.js'
import {
  type BackpressureLike,
  type CircuitLike,
  type DedupeLike,
  isBackend,
  isFallback,
  isObject,
  type RateLimitLike,
  type RetryLike,
} from './source-shapes.js'
import { onCallEnd } from '../telemetry/call-end.js'
import { watchBackend, watchFallback } from './edge-listeners.js'

/** Disposes every subscription once. */
export function disposing(...subscriptions: (IDisposable | undefined)[]): Release {
  return () => {
    for (const s of subscriptions) s?.dispose()
  }
}

/**
 * A circuit guard: state and transitions (from its backend, once per backend, so guards sharing a
 * backend do not count a transition twice), and — when `countCalls` — calls and their durations
 * from `onOutcome`. Its service option and services seen in events become known services.
 */
export function watchCircuit(
  hub: MetricHub,
  guard: CircuitLike,
  countCalls: boolean,
  service: string | undefined,
): Release[] {
  hub.enableKind('circuit')
  const releases: Release[] = [
    hub.attach(guard, 'circuit', () => {
      hub.circuits.add(guard)
      return () => hub.circuits.delete(guard)
    }),
  ]
  if (service !== undefined) hub.series(service).circuit = guard
  const backend = guard.backend
  if (isObject(backend) && isBackend(backend)) releases.push(watchBackend(hub, backend, guard))
  else {
    releases.push(
      hub.attach(guard, 'transitions', () =>
        disposing(
          guard.onStateChange((e) => {
            const s = hub.series(e.service)
            s.transition(e.from, e.to).n++
            s.setState(e.to)
            s.circuit = guard
          }),
        ),
      ),
    )
  }
  if (isObject(backend) && isFallback(backend)) releases.push(watchFallback(hub, backend))
  if (guard.onReject !== undefined) {
    const onReject = guard.onReject
    releases.push(
      hub.attach(guard, 'reject', () =>
        disposing(
          onReject((e) => {
            const s = hub.series(e.service)
            s.circuit = guard
            s.rejected(String(e.reason ?? 'open')).n++
          }),
        ),
      ),
    )
  }
  if (countCalls) {
    releases.push(
      hub.attach(guard, 'calls', () =>
        disposing(
          guard.onOutcome((e) => {
            const s = hub.series(e.service)
            s.circuit = guard
            const cell = s.calls![e.outcome]
            if (cell !== undefined) cell.n++
            const seconds = e.durationMs / 1000
            if (seconds >= 0) s.duration!.observe(seconds)
          }),
        ),
      ),
    )
  }
  return releases
}

export function watchRetry(hub: MetricHub, guard: RetryLike, service: string | undefined): Release {
  hub.enableKind('retry')
  if (service !== undefined) hub.series(service)
  const onBudget = guard.onBudgetExhausted
  const onGiveUp = guard.onGiveUp
  return hub.attach(guard, 'retry', () =>
    disposing(
      guard.onRetry((e) => {
        hub.series(e.service).retry(String(e.reason)).n++
      }),
      onBudget?.((e) => {
        hub.series(e.service).budget!.n++
      }),
      onGiveUp?.((e) => {
        hub.series(e.service).giveUp(String(e.stoppedBy)).n++
      }),
    ),
  )
}

/**
 * A rate limit (recognised by shape: `onWait`, `onLimited`, `remaining()`): waits and refusals per
 * service, and the budget left, asked for on scrape for every service it has seen or the hub knows.
 */
export function watchRateLimit(hub: MetricHub, guard: RateLimitLike, service: string | undefined): Release {
  hub.enableKind('ratelimit')
  if (service !== undefined) hub.series(service)
  return hub.attach(guard, 'ratelimit', () => {
    const seen = new Set<string>(service === undefined ? [] : [service])
    hub.rateLimits.set(guard, seen)
    const subscriptions = disposing(
      guard.onWait((e) => countRateLimitWait(hub, e)),
      guard.onLimited((e) => countRateLimited(hub, e)),
      guard.onWait((e) => seen.add(e.service)),
      guard.onLimited((e) => seen.add(e.service)),
    )
    return () => {
      subscriptions()
      hub.rateLimits.delete(guard)
    }
  })
}

/** `onWait { service, waitMs }` → `ratelimit_wait_seconds{service}`. */
export function countRateLimitWait(hub: MetricHub, e: { service: string; waitMs: number }): void {
  const seconds = e.waitMs / 1000
  if (seconds >= 0) hub.series(e.service).wait!.observe(seconds)
}

/** `onLimited { service, limit }` → `ratelimit_limited_total{service,limit}`. */
export function countRateLimited(hub: MetricHub, e: { service: string; limit: string }): void {
  const cell = hub.series(e.service).limited![e.limit as 'requests']
  if (cell !== undefined) cell.n++
}

/**
 * Whole calls through `guard` (the one the caller calls), for a composition without a breaker:
 * `calls_total` and `call_duration_seconds` counted once per call, by how a breaker would count it.
 */
export function watchCalls(hub: MetricHub, guard: object): Release {
  hub.enableKind('calls')
  return hub.attach(guard, 'call-ends', () =>
    disposing(
      onCallEnd(guard, (e) => {
        const s = hub.series(e.service)
        s.calls![e.outcome].n++
        const seconds = e.durationMs / 1000
        if (seconds >= 0) s.duration!.observe(seconds)
      }),
    ),
  )
}

export function watchDedupe(hub: MetricHub, guard: DedupeLike, service: string | undefined): Release {
  hub.enableKind('dedupe')
  if (service !== undefined) hub.series(service)
  return hub.attach(guard, 'dedupe', () => {
    hub.dedupes.add(guard)
    const subscription = guard.onDedupe((e) => {
      const cell = hub.series(e.service).dedupe![e.result as 'new']
      if (cell !== undefined) cell.n++
    })
    return () => {
      subscription.dispose()
      hub.dedupes.delete(guard)
    }
  })
}

export function watchBackpressure(hub: MetricHub, guard: BackpressureLike): Release {
  hub.initShed()
  const onSoft = guard.onSoftLimit
  const soft = hub.softLimit
  return hub.attach(guard, 'backpressure', () => {
    hub.backpressures.add(guard)
    const subscriptions = disposing(
      guard.onShed((e) => {
        hub.shedCell(e.reason, e.priority).n++
      }),
      onSoft?.(() => {
        soft.n++
      }),
    )
    return () => {
      subscriptions()
      hub.backpressures.delete(guard)
    }
  })
}
