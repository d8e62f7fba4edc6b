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
  type RetryLike,
} from './source-shapes.js'
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
            hub.series(e.service).circuit = guard
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
  return hub.attach(guard, 'retry', () =>
    disposing(
      guard.onRetry((e) => {
        hub.series(e.service).retry(String(e.reason)).n++
      }),
      onBudget?.((e) => {
        hub.series(e.service).budget!.n++
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
