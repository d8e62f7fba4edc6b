import { Counter, Gauge, type Histogram, type Registry } from 'prom-client'
import { BucketHistogram } from './bucket-histogram.js'

type Kind = 'counter' | 'gauge' | 'histogram'

interface Spec {
  readonly kind: Kind
  readonly help: string
  readonly labels: readonly string[]
}

/** Every metric `instrument()` registers, by name without the prefix (DESIGN §5). */
export const METRIC_SPECS = {
  circuit_state: {
    kind: 'gauge',
    help: 'Circuit breaker state per service: 1 for the current state, 0 for the others.',
    labels: ['service', 'state'],
  },
  circuit_transitions_total: {
    kind: 'counter',
    help: 'Circuit breaker state transitions.',
    labels: ['service', 'from', 'to'],
  },
  calls_total: {
    kind: 'counter',
    help: 'Upstream attempts that ran, by how the breaker counted them (success, failure, ignore).',
    labels: ['service', 'outcome'],
  },
  call_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of upstream attempts (holds of streamed calls included).',
    labels: ['service'],
  },
  retry_attempts_total: {
    kind: 'counter',
    help: 'Retries scheduled, by reason.',
    labels: ['service', 'reason'],
  },
  retry_budget_exhausted_total: {
    kind: 'counter',
    help: 'Retries refused because the retry budget was exhausted.',
    labels: ['service'],
  },
  dedupe_requests_total: {
    kind: 'counter',
    help: 'Keyed calls seen by dedupe: new (went upstream), joined (shared a running call), cached.',
    labels: ['service', 'result'],
  },
  dedupe_entries: { kind: 'gauge', help: 'Dedupe results, claims and calls in flight kept.', labels: [] },
  backpressure_inflight: { kind: 'gauge', help: 'Calls holding a backpressure slot.', labels: [] },
  backpressure_queue_depth: { kind: 'gauge', help: 'Calls waiting for a backpressure slot.', labels: [] },
  backpressure_shed_total: {
    kind: 'counter',
    help: 'Calls shed by backpressure, by reason and priority.',
    labels: ['reason', 'priority'],
  },
  backpressure_soft_limit_total: {
    kind: 'counter',
    help: 'Calls admitted while the in-flight depth was at or above the soft limit.',
    labels: [],
  },
  compaction_runs_total: {
    kind: 'counter',
    help: 'Background compaction runs, by outcome.',
    labels: ['outcome'],
  },
  compaction_duration_seconds: { kind: 'histogram', help: 'Duration of compaction runs.', labels: [] },
  compaction_admission_total: {
    kind: 'counter',
    help: 'Compaction admission decisions, by reason (allowed or why not).',
    labels: ['reason'],
  },
  circuit_rejected_total: {
    kind: 'counter',
    help: 'Calls a breaker refused without running them, by why (open, half-open, isolated, cooldown).',
    labels: ['service', 'reason'],
  },
  retry_give_ups_total: {
    kind: 'counter',
    help: 'Calls the retry guard let fail (or returned a rejected result for), by what stopped it.',
    labels: ['service', 'stopped_by'],
  },
  fallbacks_total: {
    kind: 'counter',
    help: 'Requests passed from one model (service) to the next fallback model.',
    labels: ['from', 'to'],
  },
  tokens_total: {
    kind: 'counter',
    help: 'Tokens the provider reported using, by kind (input, output).',
    labels: ['service', 'kind'],
  },
  time_to_first_token_seconds: {
    kind: 'histogram',
    help: 'From sending a request to its first content (a stream) or its whole answer.',
    labels: ['service'],
  },
  ratelimit_wait_seconds: {
    kind: 'histogram',
    help: 'How long calls waited for rate-limit budget before they went.',
    labels: ['service'],
  },
  ratelimit_limited_total: {
    kind: 'counter',
    help: 'Calls a rate limit refused (RateLimitError), by the budget that was short.',
    labels: ['service', 'limit'],
  },
  ratelimit_remaining: {
    kind: 'gauge',
    help: 'Rate-limit budget left to this process per service (requests, tokens), sampled on scrape.',
    labels: ['service', 'limit'],
  },
  redis_backend_fallback_active: {
    kind: 'gauge',
    help: '1 while a Redis circuit backend answers from its fallback because Redis is unusable.',
    labels: [],
  },
} as const satisfies Record<string, Spec>

export type MetricName = keyof typeof METRIC_SPECS
type MetricOf<K extends Kind> = K extends 'counter'
  ? Counter<string>
  : K extends 'gauge'
    ? Gauge<string>
    : Histogram<string> | BucketHistogram

/** The prom-client objects, by unprefixed name. */
export type MetricSet = { [N in MetricName]: MetricOf<(typeof METRIC_SPECS)[N]['kind']> }

/** Collect hooks per metric: run before each read (flush batched updates, sample gauges). */
export type CollectHooks = Partial<Record<MetricName, () => void | Promise<void>>>

interface Registered {
  type?: unknown
  labelNames?: unknown
  collect?: (this: unknown) => void | Promise<void>
}

/**
 * Finds each metric on the registry (`getSingleMetric`) or registers it there, on that registry
 * only. A metric found there is reused — registering a name twice would throw — after checking
 * its type and labels; the hook is chained in front of any collect function it already has.
 * Histograms are breakwater's own `BucketHistogram` (same exposition, cheaper observations).
 */
export function resolveMetrics(
  registry: Registry,
  prefix: string,
  buckets: readonly number[],
  hooks: CollectHooks,
): MetricSet {
  const metrics = {} as Record<MetricName, unknown>
  for (const [short, spec] of Object.entries(METRIC_SPECS) as [MetricName, Spec][]) {
    const name = prefix + short
    const hook = hooks[short]
    const found = registry.getSingleMetric(name) as unknown as Registered | undefined
    if (found !== undefined) {
      checkCompatible(name, spec, found)
      if (hook !== undefined) chainCollect(found, hook)
      metrics[short] = found
      continue
    }
    const config = {
      name,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [registry],
      ...(hook !== undefined && { collect: hook }),
    }
    if (spec.kind === 'histogram') {
      const histogram = new BucketHistogram(name, spec.help, spec.labels, buckets)
      registry.registerMetric(histogram as unknown as Histogram<string>)
      metrics[short] = histogram
    } else {
      metrics[short] = spec.kind === 'counter' ? new Counter(config) : new Gauge(config)
    }
  }
  return metrics as MetricSet
}

function checkCompatible(name: string, spec: Spec, found: Registered): void {
  const labels = Array.isArray(found.labelNames) ? [...(found.labelNames as string[])].sort() : []
  const same = found.type === spec.kind && labels.join(',') === [...spec.labels].sort().join(',')
  if (!same) {
    throw new TypeError(
      `instrument: metric "${name}" is already registered as a ${String(found.type)} with labels ` +
        `[${labels.join(', ')}]; breakwater needs a ${spec.kind} with labels [${spec.labels.join(', ')}] ` +
        `(use the "prefix" option to avoid the clash)`,
    )
  }
}

/** A metric registered by another copy of breakwater (or by hand): run our hook before its own. */
function chainCollect(found: Registered, hook: () => void | Promise<void>): void {
  const previous = found.collect
  found.collect = function collect(this: unknown): void | Promise<void> {
    const mine = hook()
    const theirs = previous?.call(this)
    if (mine instanceof Promise || theirs instanceof Promise) return Promise.all([mine, theirs]).then(noop)
  }
}

function noop(): void {}
