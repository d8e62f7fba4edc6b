import { getHeapStatistics } from 'node:v8'
import type { Guard } from '../core/guard.js'

/**
 * Why a background compaction was or was not started, in priority order (P6, P14):
 * `cannot_reach_target` — a plan exists but even a summary within `maxSummaryTokens` would not end
 * below the target (the kept part is too large), so no paid summarizer call is made.
 */
export const ADMISSION_REASONS = [
  'pending',
  'session_attempt_limit',
  'cooldown',
  'no_preparation',
  'cannot_reach_target',
  'memory_pressure',
  'provider_degraded',
  'queue_saturated',
  'allowed',
] as const
export type AdmissionReason = (typeof ADMISSION_REASONS)[number]
/** Live conditions that may hold a background compaction back. */
export interface AdmissionSignals {
  /** The process is short of memory. */
  readonly memoryPressure: boolean
  /** The summarizer's provider is unhealthy (breaker open or half-open). */
  readonly providerDegraded: boolean
  /** Foreground traffic fills the call capacity (backpressure at or over its soft limit). */
  readonly queueSaturated: boolean
  /** The breaker state the signal was read from, when there is a breaker. */
  readonly circuitState?: 'closed' | 'open' | 'half-open'
  /** Backpressure depth / soft limit, when there is a backpressure guard. */
  readonly softDepthRatio?: number
}

/** Where admission reads its signals. Pass one to the worker to replace the live guards. */
export interface AdmissionSignalSource {
  read(): AdmissionSignals | Promise<AdmissionSignals>
}

/** One admission decision, as logged and counted (`compaction_admission_total{reason}`). */
export interface AdmissionDecision {
  readonly schema: 'breakwater.compaction.admission.v1'
  readonly allowed: boolean
  readonly reason: AdmissionReason
  readonly tokensBefore: number
  readonly attemptCount: number
  readonly maxAttemptsPerSession: number
  readonly cooldownRemainingMs: number
  readonly signals: AdmissionSignals
}

/** The inputs of a decision, evaluated in the order of ADMISSION_REASONS: the first that applies wins. */
export interface AdmissionFacts {
  pending: boolean
  prepared: boolean
  /** The plan can end below the target (false: kept part too large). Default true. */
  reachable?: boolean
  tokensBefore: number
  attemptCount: number
  maxAttemptsPerSession: number
  cooldownRemainingMs: number
  signals: AdmissionSignals
}

export function decideAdmission(f: AdmissionFacts): AdmissionDecision {
  const reason: AdmissionReason = f.pending
    ? 'pending'
    : f.attemptCount >= f.maxAttemptsPerSession
      ? 'session_attempt_limit'
      : f.cooldownRemainingMs > 0
        ? 'cooldown'
        : !f.prepared
          ? 'no_preparation'
          : f.reachable === false
            ? 'cannot_reach_target'
            : f.signals.memoryPressure
              ? 'memory_pressure'
              : f.signals.providerDegraded
                ? 'provider_degraded'
                : f.signals.queueSaturated
                  ? 'queue_saturated'
                  : 'allowed'
  return {
    schema: 'breakwater.compaction.admission.v1',
    allowed: reason === 'allowed',
    reason,
    tokensBefore: f.tokensBefore,
    attemptCount: f.attemptCount,
    maxAttemptsPerSession: f.maxAttemptsPerSession,
    cooldownRemainingMs: f.cooldownRemainingMs,
    signals: f.signals,
  }
}

/** The part of a circuit guard admission reads. */
export interface CircuitSignal {
  state(service?: string): Promise<'closed' | 'open' | 'half-open'> | 'closed' | 'open' | 'half-open'
}
/** The part of a backpressure guard admission reads. */
export interface BackpressureSignal {
  readonly softDepthRatio: number
  readonly depth?: number
  readonly hardLimit?: number
}

export interface GuardSignalsOptions {
  /** Breaker of the summarizer's provider: open or half-open → provider_degraded. */
  circuit?: CircuitSignal
  /** Backpressure in front of the provider: softDepthRatio ≥ 1 (or depth at hardLimit) → queue_saturated. */
  backpressure?: BackpressureSignal
  /** Returns true under memory pressure. Default `heapPressure()` (heap ≥ 90 % of its limit). */
  memory?: () => boolean
  /** Service whose breaker state is read. Default: the breaker's own. */
  service?: string
}

/** True when the V8 heap uses at least `ratio` of its limit. */
export function heapPressure(ratio = 0.9): () => boolean {
  return () => {
    const h = getHeapStatistics()
    return h.used_heap_size >= ratio * h.heap_size_limit
  }
}

/** Signals read from live guards on every decision. A breaker that cannot be read counts as degraded. */
export function guardSignals(o: GuardSignalsOptions = {}): AdmissionSignalSource {
  const memory = o.memory ?? heapPressure()
  return {
    async read(): Promise<AdmissionSignals> {
      let circuitState: AdmissionSignals['circuitState']
      let providerDegraded = false
      if (o.circuit !== undefined) {
        try {
          circuitState = await o.circuit.state(o.service)
          providerDegraded = circuitState !== 'closed'
        } catch {
          providerDegraded = true
        }
      }
      const bp = o.backpressure
      const softDepthRatio = bp?.softDepthRatio
      const queueSaturated =
        bp !== undefined &&
        (bp.softDepthRatio >= 1 ||
          (bp.depth !== undefined && bp.hardLimit !== undefined && bp.depth >= bp.hardLimit))
      return {
        memoryPressure: memory(),
        providerDegraded,
        queueSaturated,
        ...(circuitState !== undefined ? { circuitState } : {}),
        ...(softDepthRatio !== undefined ? { softDepthRatio } : {}),
      }
    },
  }
}

/** Finds the breaker and backpressure guards inside a (composed) guard, by shape. */
export function findSignalGuards(guard: Guard | undefined): {
  circuit?: CircuitSignal
  backpressure?: BackpressureSignal
} {
  const found: { circuit?: CircuitSignal; backpressure?: BackpressureSignal } = {}
  const visit = (g: unknown): void => {
    if (typeof g !== 'object' || g === null) return
    const r = g as Record<string, unknown>
    if (
      found.circuit === undefined &&
      typeof r.state === 'function' &&
      typeof r.onStateChange === 'function'
    ) {
      found.circuit = g as CircuitSignal
    }
    if (found.backpressure === undefined && typeof r.softDepthRatio === 'number') {
      found.backpressure = g as BackpressureSignal
    }
    if (Array.isArray(r.guards)) r.guards.forEach(visit)
  }
  visit(guard)
  return found
}
