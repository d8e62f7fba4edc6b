import { type Logger, resolveLogger, type LoggerOption } from '../core/logger.js'
import { invalidOption, optionalString, requireOptions } from '../core/validate.js'

const OWNER = 'instrument'

/** Default metric name prefix. */
export const DEFAULT_METRIC_PREFIX = 'breakwater_'

/**
 * Histogram buckets for LLM call durations, in seconds: from a cached or failed-fast answer to a
 * long generation, up to the 120 s default attempt timeout.
 */
export const LLM_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120,
])

export interface InstrumentOptions {
  /**
   * Prepended to every metric name. Must be a valid Prometheus name prefix (letters, digits, `_`,
   * `:`; not starting with a digit) or ''. Each prefix gets its own metrics on a registry.
   * Default `'breakwater_'`.
   */
  prefix?: string
  /**
   * Upper bounds, in seconds, of the buckets of every histogram (`call_duration_seconds`,
   * `compaction_duration_seconds`, `time_to_first_token_seconds`, `ratelimit_wait_seconds`):
   * finite, > 0, increasing. Used when the metrics are first created on the registry; a later
   * `instrument()` on the same registry reuses them as they are. Default
   * `LLM_DURATION_BUCKETS` (0.05 s … 120 s).
   */
  durationBuckets?: readonly number[]
  /**
   * Services whose series are initialised (to 0, breaker closed) before any call names them, in
   * addition to the services the guards were given as options. Services seen in events are added
   * as they appear. Default none.
   */
  services?: readonly string[]
  /**
   * Where a failure to sample a source on scrape is reported (a breaker's `state()` or a rate
   * limit's `remaining()` that rejects, e.g. Redis unreachable): once per source and service until
   * it succeeds again, with `{ service, error }` fields; the series keeps its last value. The
   * latest `instrument()` on a registry that gives one sets it. Default `console`.
   */
  logger?: LoggerOption
}

export interface ResolvedInstrumentOptions {
  readonly prefix: string
  readonly durationBuckets: readonly number[]
  readonly services: readonly string[]
  readonly logger: Logger | undefined
}

const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/

export function resolveInstrumentOptions(options: unknown): ResolvedInstrumentOptions {
  const o = requireOptions<InstrumentOptions>(OWNER, options, true)
  const prefix = o.prefix === '' ? '' : (optionalString(OWNER, 'prefix', o.prefix) ?? DEFAULT_METRIC_PREFIX)
  if (!PREFIX.test(prefix)) {
    invalidOption(OWNER, 'prefix', 'a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*) or ""', prefix)
  }
  let durationBuckets = LLM_DURATION_BUCKETS
  if (o.durationBuckets !== undefined) {
    const b: unknown = o.durationBuckets
    if (!Array.isArray(b)) {
      throw new TypeError(`${OWNER}: option "durationBuckets" must be an array of numbers, got ${String(b)}`)
    }
    const ok =
      b.length > 0 &&
      b.every((x, i) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (i === 0 || x > b[i - 1]))
    if (!ok) invalidOption(OWNER, 'durationBuckets', 'finite numbers > 0 in increasing order', b)
    durationBuckets = Object.freeze([...(b as number[])])
  }
  let services: readonly string[] = []
  if (o.services !== undefined) {
    const s: unknown = o.services
    if (!Array.isArray(s) || !s.every((x) => typeof x === 'string')) {
      throw new TypeError(`${OWNER}: option "services" must be an array of strings, got ${String(s)}`)
    }
    services = [...(s as string[])]
  }
  const logger = o.logger === undefined ? undefined : resolveLogger(OWNER, o.logger)
  return { prefix, durationBuckets, services, logger }
}
