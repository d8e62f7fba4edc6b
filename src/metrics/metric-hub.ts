import type { Registry } from 'prom-client'
import type { Priority } from '../core/call-options.js'
import { consoleLogger, errorFields, type Logger } from '../core/logger.js'
import type { ShedReason } from '../core/errors/backpressure-shed-error.js'
import { type CounterCell, CounterCells, type HistogramCell, HistogramCells } from './cells.js'
import {
  type CollectHooks,
  METRIC_SPECS,
  type MetricName,
  type MetricSet,
  resolveMetrics,
} from './metric-set.js'
import { RATE_LIMITS, ServiceSeries, type ServiceFamilies, type StateSource } from './service-series.js'

/** Metrics that are counters. */
type CounterName = {
  [N in MetricName]: (typeof METRIC_SPECS)[N]['kind'] extends 'counter' ? N : never
}[MetricName]

const SHED_REASONS: readonly ShedReason[] = [
  'hard_limit',
  'soft_limit',
  'queue_full',
  'queue_timeout',
  'too_large',
]
const PRIORITIES: readonly Priority[] = ['foreground', 'background']
/** The families that exist per service; each is initialised once a source of that kind is instrumented. */
export type ServiceKind = 'calls' | 'circuit' | 'retry' | 'dedupe' | 'provider' | 'ratelimit'

/** What a subscription hands back: cockatiel disposables or plain functions. */
export type Release = () => void

/** A rate limit sampled on scrape (`ratelimit_remaining`). */
export interface RemainingSource {
  remaining(service: string): Promise<{ requests?: number; tokens?: number }>
}

/**
 * Everything `instrument()` keeps per registry (and prefix): the metrics, the series of each known
 * service, the objects sampled on scrape, and which event sources are subscribed (a source given
 * twice is subscribed once, and unsubscribed when the last `instrument()` that gave it is disposed).
 */
export class MetricHub {
  readonly metrics: MetricSet
  /** Sampled on scrape. */
  readonly dedupes = new Set<{ readonly size: number }>()
  readonly backpressures = new Set<{ readonly depth: number; readonly queued: number }>()
  /** Circuit guards that may be asked for a state on scrape. */
  readonly circuits = new Set<StateSource>()
  /** Redis backends and whether each is on its fallback. */
  readonly fallbacks = new Map<object, boolean>()
  /** Rate limits, with the services each has seen, asked for their remaining budget on scrape. */
  readonly rateLimits = new Map<RemainingSource, Set<string>>()
  readonly softLimit: CounterCell
  readonly compactionDuration: HistogramCell
  /** Hears about sources that fail to answer on scrape. */
  logger: Logger = consoleLogger
  /** `source + service` pairs whose last sample failed: reported once until they answer again. */
  private readonly failing = new WeakMap<object, Set<string>>()
  private readonly families: ServiceFamilies
  private readonly services = new Map<string, ServiceSeries>()
  private readonly kinds = new Set<ServiceKind>()
  private readonly shed = new Map<string, Map<string, CounterCell>>()
  private readonly shedCells: CounterCells
  private readonly runCells: CounterCells
  private readonly runs = new Map<string, CounterCell>()
  private readonly admissionCells: CounterCells
  private readonly admissions = new Map<string, CounterCell>()
  private readonly fallbackCells: CounterCells
  private readonly modelFallbacks = new Map<string, CounterCell>()
  private readonly attached = new WeakMap<object, Map<string, { count: number; release: Release }>>()

  constructor(registry: Registry, prefix: string, buckets: readonly number[]) {
    // The cells exist before the metrics do; the hooks only read them at scrape time.
    const cells = new Map<MetricName, CounterCells>()
    const flush = (name: MetricName) => (): void => cells.get(name)?.flush()
    const hooks: CollectHooks = {
      circuit_state: () => this.refreshStates(),
      dedupe_entries: () => this.metrics.dedupe_entries.set(sum(this.dedupes, (d) => d.size)),
      backpressure_inflight: () =>
        this.metrics.backpressure_inflight.set(sum(this.backpressures, (b) => b.depth)),
      backpressure_queue_depth: () =>
        this.metrics.backpressure_queue_depth.set(sum(this.backpressures, (b) => b.queued)),
      redis_backend_fallback_active: () =>
        this.metrics.redis_backend_fallback_active.set([...this.fallbacks.values()].some(Boolean) ? 1 : 0),
      ratelimit_remaining: () => this.refreshRemaining(),
    }
    for (const [name, spec] of Object.entries(METRIC_SPECS) as [MetricName, { kind: string }][]) {
      if (spec.kind === 'counter') hooks[name] = flush(name)
    }
    const metrics = resolveMetrics(registry, prefix, buckets, hooks)
    const m = (this.metrics = metrics)
    const counter = (name: CounterName): CounterCells => {
      const c = new CounterCells(m[name])
      cells.set(name, c)
      return c
    }
    this.families = {
      state: m.circuit_state,
      transitions: counter('circuit_transitions_total'),
      calls: counter('calls_total'),
      durations: new HistogramCells(m.call_duration_seconds),
      retries: counter('retry_attempts_total'),
      budget: counter('retry_budget_exhausted_total'),
      dedupe: counter('dedupe_requests_total'),
      rejected: counter('circuit_rejected_total'),
      giveUps: counter('retry_give_ups_total'),
      tokens: counter('tokens_total'),
      firstToken: new HistogramCells(m.time_to_first_token_seconds),
      limited: counter('ratelimit_limited_total'),
      waits: new HistogramCells(m.ratelimit_wait_seconds),
    }
    this.shedCells = counter('backpressure_shed_total')
    this.softLimit = counter('backpressure_soft_limit_total').cell({})
    this.runCells = counter('compaction_runs_total')
    this.admissionCells = counter('compaction_admission_total')
    this.fallbackCells = counter('fallbacks_total')
    this.compactionDuration = new HistogramCells(m.compaction_duration_seconds).cell({})
    m.redis_backend_fallback_active.set(0)
  }

  /** The series of `service`, created (and initialised for every instrumented kind) on first use. */
  series(service: string): ServiceSeries {
    return this.services.get(service) ?? this.learn(service)
  }

  /** Declares that guards of `kind` are instrumented: every known service gets that family. */
  enableKind(kind: ServiceKind): void {
    if (this.kinds.has(kind)) return
    this.kinds.add(kind)
    for (const s of this.services.values()) init(s, kind)
  }

  shedCell(reason: string, priority: string): CounterCell {
    let byPriority = this.shed.get(reason)
    if (byPriority === undefined) this.shed.set(reason, (byPriority = new Map()))
    return cellOf(byPriority, this.shedCells, priority, { reason, priority })
  }

  /** Initialises every shed reason × priority to 0. */
  initShed(): void {
    for (const reason of SHED_REASONS) for (const priority of PRIORITIES) this.shedCell(reason, priority)
  }

  runCell(outcome: string): CounterCell {
    return cellOf(this.runs, this.runCells, outcome, { outcome })
  }

  admissionCell(reason: string): CounterCell {
    return cellOf(this.admissions, this.admissionCells, reason, { reason })
  }

  /** `fallbacks_total{from,to}`: pairs appear as they are first seen (models are configured, so bounded). */
  fallbackCell(from: string, to: string): CounterCell {
    return cellOf(this.modelFallbacks, this.fallbackCells, `${from}\u0000${to}`, { from, to })
  }

  /**
   * Subscribes `target` in `role` unless it already is (then only counts the reference). The
   * returned release undoes this once; the subscription ends with the last release.
   */
  attach(target: object, role: string, subscribe: () => Release): Release {
    let roles = this.attached.get(target)
    if (roles === undefined) this.attached.set(target, (roles = new Map()))
    const entry = roles.get(role)
    if (entry !== undefined) entry.count++
    else roles.set(role, { count: 1, release: subscribe() })
    let released = false
    return () => {
      if (released) return
      released = true
      const current = roles.get(role)!
      if (--current.count === 0) {
        roles.delete(role)
        current.release()
      }
    }
  }

  private learn(service: string): ServiceSeries {
    const s = new ServiceSeries(service, this.families)
    this.services.set(service, s)
    for (const kind of this.kinds) init(s, kind)
    return s
  }

  /**
   * Asks each service's breaker for its state on scrape: an in-memory breaker moves from open to
   * half-open only when asked, and a shared (Redis) one may have been moved by another process.
   */
  private async refreshStates(): Promise<void> {
    if (this.circuits.size === 0) return
    const pending: Promise<void>[] = []
    for (const s of this.services.values()) {
      const source = s.circuit
      if (source === undefined || !this.circuits.has(source)) continue
      pending.push(
        source.state(s.name).then(
          (state) => {
            this.recovered(source, s.name)
            s.setState(state)
          },
          (error: unknown) => this.sampleFailed(source, s.name, 'circuit_state', error),
        ),
      )
    }
    await Promise.all(pending)
  }

  private sampleFailed(source: object, service: string, metric: string, error: unknown): void {
    let failing = this.failing.get(source)
    if (failing === undefined) this.failing.set(source, (failing = new Set()))
    if (failing.has(service)) return
    failing.add(service)
    this.logger.warn(
      'breakwater: a metrics source failed to answer on scrape; its series keeps its last value',
      {
        component: 'instrument',
        metric,
        service,
        ...errorFields(error),
      },
    )
  }

  private recovered(source: object, service: string): void {
    this.failing.get(source)?.delete(service)
  }

  /** Asks each rate limit for the budget left to each service it has seen (and each known service). */
  private async refreshRemaining(): Promise<void> {
    if (this.rateLimits.size === 0) return
    const gauge = this.metrics.ratelimit_remaining
    const pending: Promise<void>[] = []
    for (const [source, seen] of this.rateLimits) {
      const services = new Set([...this.services.keys(), ...seen])
      for (const service of services) {
        pending.push(
          source.remaining(service).then(
            (left) => {
              this.recovered(source, service)
              for (const limit of RATE_LIMITS) {
                const value = left?.[limit]
                if (typeof value === 'number' && Number.isFinite(value)) gauge.set({ service, limit }, value)
              }
            },
            (error: unknown) => this.sampleFailed(source, service, 'ratelimit_remaining', error),
          ),
        )
      }
    }
    await Promise.all(pending)
  }
}

function init(s: ServiceSeries, kind: ServiceKind): void {
  if (kind === 'calls') s.initCalls()
  else if (kind === 'circuit') s.initCircuit()
  else if (kind === 'retry') s.initRetry()
  else if (kind === 'dedupe') s.initDedupe()
  else if (kind === 'provider') s.initProvider()
  else s.initRateLimit()
}

function cellOf(
  map: Map<string, CounterCell>,
  cells: CounterCells,
  key: string,
  labels: Record<string, string>,
): CounterCell {
  let cell = map.get(key)
  if (cell === undefined) map.set(key, (cell = cells.cell(labels)))
  return cell
}

function sum<T>(items: Iterable<T>, value: (item: T) => number): number {
  let total = 0
  for (const item of items) {
    const v = value(item)
    if (Number.isFinite(v)) total += v
  }
  return total
}

const hubs = new WeakMap<object, MetricHub>()

/**
 * The hub for `registry` and `prefix`: found through the registry itself (`getSingleMetric` of its
 * calls counter), so a second `instrument()` reuses the metrics, and a registry that was cleared
 * gets new ones.
 */
export function hubFor(registry: Registry, prefix: string, buckets: readonly number[]): MetricHub {
  const anchor = registry.getSingleMetric(`${prefix}calls_total`)
  const known = anchor === undefined ? undefined : hubs.get(anchor)
  if (known !== undefined) return known
  const hub = new MetricHub(registry, prefix, buckets)
  hubs.set(hub.metrics.calls_total, hub)
  return hub
}
