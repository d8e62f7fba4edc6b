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
