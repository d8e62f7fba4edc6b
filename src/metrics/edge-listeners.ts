/** Subscriptions to circuit backends (transitions, the Redis fallback) and compaction workers. */
import type { MetricHub, Release } from './metric-hub.js'
import type { BackendLike, CompactionRunEvent, CompactionWorkerLike, FallbackLike } from './source-shapes.js'
import type { StateSource } from './service-series.js'
import { ADMISSION_REASONS } from '../pipeline/admission.js'

const RUN_OUTCOMES = ['completed', 'failed', 'rejected']

/**
 * A backend's transitions, counted once per backend however many guards share it. `asker`, when
 * given, is the guard asked for the state of the services this backend reports (on scrape).
 */
export function watchBackend(hub: MetricHub, backend: BackendLike, asker?: StateSource): Release {
  hub.enableKind('circuit')
  return hub.attach(backend, 'transitions', () => {
    const subscription = backend.onStateChange((e) => {
      const s = hub.series(e.service)
      s.transition(e.from, e.to).n++
      s.setState(e.to)
      if (asker !== undefined && (s.circuit === undefined || !hub.circuits.has(s.circuit))) s.circuit = asker
    })
    return () => subscription.dispose()
  })
}

/** The Redis backend's switch to and from its fallback (`redis_backend_fallback_active`). */
export function watchFallback(hub: MetricHub, backend: FallbackLike): Release {
  return hub.attach(backend, 'fallback', () => {
    hub.fallbacks.set(backend, backend.backendState === 'fallback')
    const subscription = backend.onBackendStateChange((e) => {
      hub.fallbacks.set(backend, e.to === 'fallback')
    })
    return () => {
      subscription.dispose()
      hub.fallbacks.delete(backend)
    }
  })
}

/** Compaction runs by outcome with their durations, and admission decisions by reason. */
export function watchCompaction(hub: MetricHub, worker: CompactionWorkerLike): Release {
  for (const outcome of RUN_OUTCOMES) hub.runCell(outcome)
  for (const reason of ADMISSION_REASONS) hub.admissionCell(reason)
  const duration = hub.compactionDuration
  const onRun = (e: CompactionRunEvent): void => {
    hub.runCell(String(e.outcome)).n++
    // A result refused at the turn boundary was already timed as a completed run.
    if (e.reason !== 'prefix_changed' && e.durationMs >= 0) duration.observe(e.durationMs / 1000)
  }
  const onAdmission = worker.onAdmission
  const onRejected = worker.onRejected
  return hub.attach(worker, 'compaction', () => {
    const subscriptions = [
      worker.onCompleted(onRun),
      worker.onFailed(onRun),
      onRejected?.(onRun),
      onAdmission?.((e) => {
        hub.admissionCell(String(e.decision.reason)).n++
      }),
    ]
    return () => {
      for (const s of subscriptions) s?.dispose()
    }
  })
}

/**
 * What the provider wrappers report for each answer (their `onResponse` option's report; only the
 * fields counted here are required).
 */
export interface ResponseReport {
  readonly service: string
  readonly usage?: { readonly inputTokens?: number; readonly outputTokens?: number }
  /** From sending the request to the first content (a stream) or the whole body, in ms. */
  readonly timeToFirstContentMs?: number
}

/** One answer → `tokens_total{service,kind}` and `time_to_first_token_seconds{service}`. */
export function countResponse(hub: MetricHub, r: ResponseReport): void {
  if (typeof r?.service !== 'string') return
  const s = hub.series(r.service)
  s.initProvider()
  const input = r.usage?.inputTokens
  const output = r.usage?.outputTokens
  if (typeof input === 'number' && input > 0 && Number.isFinite(input)) s.tokens!.input.n += input
  if (typeof output === 'number' && output > 0 && Number.isFinite(output)) s.tokens!.output.n += output
  const ttft = r.timeToFirstContentMs
  if (typeof ttft === 'number' && ttft >= 0 && Number.isFinite(ttft)) s.firstToken!.observe(ttft / 1000)
}

/** A request passed from one model to the next (`fallbacks_total{from,to}`, services as labels). */
export interface FallbackReport {
  readonly from: string
  readonly to: string
}

export function countFallback(hub: MetricHub, e: FallbackReport): void {
  if (typeof e?.from !== 'string' || typeof e.to !== 'string') return
  hub.fallbackCell(e.from, e.to).n++
}
