import type { Clock } from '../core/clock.js'
import type { Guard } from '../core/guard.js'
import { optionalClock } from '../core/validate.js'
import type { AdmissionSignalSource } from './admission.js'
import type { CompactionPolicy } from './compaction-policy.js'
import type { CompactionQuota } from './compaction-quota.js'
import type { CompactionStore } from './compaction-store.js'
import { extractiveSummarizer } from './extractive-summarizer.js'
import { isSummarizer, type Summarizer } from './summarizer.js'

export interface CompactionWorkerOptions {
  /** Writes the summaries (usually `llmSummarizer`). Required. */
  summarizer: Summarizer
  /**
   * Used when the summarizer fails or its breaker is open (P10), never through the guard.
   * `false` disables it. Default `extractiveSummarizer()` (none when `summarizer` is extractive).
   */
  fallback?: Summarizer | false
  /**
   * The guard the summarizer's calls go through, as priority 'background' (the same `llmGuard` as
   * foreground calls, so compaction yields to users). Its breaker and backpressure guards (found
   * inside a composed guard) feed admission unless `signals` is given. Default: none.
   */
  guard?: Guard
  /** Service of the summarizer's calls (breaker state is per service). Default: the guards' own. */
  service?: string
  /** Cooldown, timeout, attempt cap, marker life. Defaults: 60 000 ms, 120 000 ms, 100, timeout + 30 000 ms. */
  quota?: CompactionQuota
  /** When to compact and what to keep. Defaults: see `CompactionPolicy`. */
  policy?: CompactionPolicy
  /** In-flight markers, cooldowns, attempt counts and boundaries. Default: an `InMemoryCompactionStore` on `clock`. */
  store?: CompactionStore
  /** Replaces the signals read from `guard` (breaker, backpressure) and `memoryProbe`. Default: live guards. */
  signals?: AdmissionSignalSource
  /** Returns true under memory pressure (→ 'memory_pressure'). Default: V8 heap ≥ 90 % of its limit. */
  memoryProbe?: () => boolean
  /** Source of time (timeout, cooldown, durations). Default `systemClock`. */
  clock?: Clock
}

/** Checks the options that need more than a type check; resolves the fallback. */
export function validateWorkerOptions(
  o: CompactionWorkerOptions,
): CompactionWorkerOptions & { fallback?: Summarizer } {
  const owner = 'compactionWorker'
  if (!isSummarizer(o.summarizer)) {
    throw new TypeError(
      `${owner}: option "summarizer" must have a summarize() method, got ${String(o.summarizer)}`,
    )
  }
  if (o.fallback !== undefined && o.fallback !== false && !isSummarizer(o.fallback)) {
    throw new TypeError(
      `${owner}: option "fallback" must be a Summarizer or false, got ${String(o.fallback)}`,
    )
  }
  if (o.guard !== undefined && typeof o.guard?.execute !== 'function') {
    throw new TypeError(`${owner}: option "guard" must be a Guard, got ${String(o.guard)}`)
  }
  if (o.signals !== undefined && typeof o.signals?.read !== 'function') {
    throw new TypeError(`${owner}: option "signals" must have a read() method, got ${String(o.signals)}`)
  }
  const store = o.store as unknown as Record<string, unknown> | undefined
  if (
    store !== undefined &&
    ['read', 'acquire', 'release', 'countAttempt'].some((m) => typeof store?.[m] !== 'function')
  ) {
    throw new TypeError(`${owner}: option "store" must be a CompactionStore, got ${String(o.store)}`)
  }
  optionalClock(owner, o.clock)
  const fallback =
    o.fallback === false
      ? undefined
      : (o.fallback ?? (o.summarizer.name === 'extractive' ? undefined : extractiveSummarizer()))
  const { fallback: _ignored, ...rest } = o
  return fallback === undefined ? rest : { ...rest, fallback }
}
