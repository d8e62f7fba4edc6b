import type { Registry } from 'prom-client'
import type { Guard } from '../core/guard.js'
import {
  countFallback,
  countResponse,
  type FallbackReport,
  type ResponseReport,
  watchBackend,
  watchCompaction,
  watchFallback,
} from './edge-listeners.js'
import {
  watchBackpressure,
  watchCalls,
  watchCircuit,
  watchDedupe,
  watchRateLimit,
  watchRetry,
} from './guard-listeners.js'
import { type InstrumentOptions, resolveInstrumentOptions } from './instrument-options.js'
import { hubFor, type MetricHub, type Release } from './metric-hub.js'
import * as shape from './source-shapes.js'

/**
 * What `instrument()` takes besides the registry: guards (composed or single), compaction workers,
 * circuit backends, or any object with the same events (recognised by shape).
 */
export type Instrumentable =
  | Guard
  | shape.CompactionWorkerLike
  | shape.FallbackLike
  | shape.BackendLike
  | shape.CircuitLike
  | shape.RetryLike
  | shape.DedupeLike
  | shape.BackpressureLike
  | shape.RateLimitLike

/** Handle returned by `instrument()`. */
export interface Instrumentation {
  /** Unsubscribes from every source this call subscribed to; its objects are no longer sampled on scrape. Idempotent. */
  dispose(): void
  /**
   * Counts one provider answer: `tokens_total{service,kind}` from its usage and
   * `time_to_first_token_seconds{service}`. Pass it as the provider wrappers' `onResponse` option
   * (it is bound, and does nothing once disposed).
   */
  readonly onResponse: (report: ResponseReport) => void
  /** Counts a request passed to the next fallback model (`fallbacks_total{from,to}`). Bound; inert once disposed. */
  readonly onFallback: (report: FallbackReport) => void
}

/**
 * Registers breakwater's metrics on `registry` (never on prom-client's global registry unless that
 * is the one given) and counts the events of the given guards, workers and backends. Composed
 * guards are walked (`.guards`, recursively). A second call on the same registry reuses the
 * metrics; a source given to several calls is counted once. An options object may come last.
 */
export function instrument(
  registry: Registry,
  ...sourcesAndOptions: (Instrumentable | InstrumentOptions)[]
): Instrumentation {
  checkRegistry(registry)
  const args: unknown[] = [...sourcesAndOptions]
  const last = args[args.length - 1]
  const options = resolveInstrumentOptions(
    args.length > 0 && !shape.isSource(last) && isPlain(last) ? args.pop() : undefined,
  )
  args.forEach((arg, i) => {
    if (!shape.isSource(arg)) {
      throw new TypeError(
        `instrument: argument ${i + 2} must be a guard, a compaction worker or a circuit backend, got ${describe(arg)}`,
      )
    }
  })
  const hub = hubFor(registry, options.prefix, options.durationBuckets)
  if (options.logger !== undefined) hub.logger = options.logger
  const releases: Release[] = []
  let firstCircuit: shape.CircuitLike | undefined
  // Tokens and time to first token come from the wrappers' reports, for any service.
  hub.enableKind('provider')
  for (const arg of args) {
    const leaves = flatten(arg as Record<string, unknown>)
    // Calls are counted by the innermost breaker of a composition: it sees each attempt's outcome
    // once. A guard without one has its whole calls counted where the caller calls it.
    const innermost = leaves.findLast(shape.isCircuit)
    if (innermost === undefined && shape.isGuard(arg as Record<string, unknown>)) {
      releases.push(watchCalls(hub, arg as object))
    }
    for (const leaf of leaves) {
      if (shape.isCircuit(leaf)) firstCircuit ??= leaf
      watch(hub, leaf, leaf === innermost, releases)
    }
  }
  for (const service of options.services) {
    const s = hub.series(service)
    if (firstCircuit !== undefined) s.circuit ??= firstCircuit
  }
  let disposed = false
  return {
    dispose() {
      if (disposed) return
      disposed = true
      for (const release of releases) release()
    },
    onResponse: (report) => {
      if (!disposed) countResponse(hub, report)
    },
    onFallback: (report) => {
      if (!disposed) countFallback(hub, report)
    },
  }
}

function watch(hub: MetricHub, x: Record<string, unknown>, countCalls: boolean, releases: Release[]): void {
  const service = shape.ownService(x)
  if (shape.isCircuit(x)) releases.push(...watchCircuit(hub, x, countCalls, service))
  else if (shape.isBackend(x)) releases.push(watchBackend(hub, x))
  if (shape.isFallback(x)) releases.push(watchFallback(hub, x))
  if (shape.isRetry(x)) releases.push(watchRetry(hub, x, service))
  if (shape.isDedupe(x)) releases.push(watchDedupe(hub, x, service))
  if (shape.isBackpressure(x)) releases.push(watchBackpressure(hub, x))
  if (shape.isRateLimit(x)) releases.push(watchRateLimit(hub, x, service))
  if (shape.isCompactionWorker(x)) releases.push(watchCompaction(hub, x))
}

/** The leaves of a composition, outermost first; a source that is not composed is its own leaf. */
function flatten(x: Record<string, unknown>, seen = new Set<object>()): Record<string, unknown>[] {
  if (seen.has(x)) return []
  seen.add(x)
  if (!shape.isComposed(x)) return [x]
  return x.guards.flatMap((g) => (shape.isObject(g) ? flatten(g, seen) : []))
}

function checkRegistry(registry: unknown): void {
  const r = registry as Partial<Registry> | null | undefined
  if (typeof r?.getSingleMetric !== 'function' || typeof r?.registerMetric !== 'function') {
    throw new TypeError(
      `instrument: registry must be a prom-client Registry (new Registry()), got ${describe(registry)}`,
    )
  }
}

function isPlain(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x)
  if (typeof x === 'object') return Object.prototype.toString.call(x)
  return typeof x === 'function' ? 'a function' : `${typeof x} ${String(x)}`
}
