import type { StatsSnapshot } from './stats.js'
import type { ProcessReport } from './summary.js'

/** Environment variable that carries a worker's configuration (JSON). */
export const WORKER_CONFIG_ENV = 'BREAKWATER_DEMO_WORKER'

/** What the parent tells each worker process at fork. */
export interface WorkerConfig {
  /** 0-based worker number. */
  index: number
  providerUrl: string
  redis: string
  /** Key prefix of the shared breaker (one per run, so no stale state or configuration applies). */
  prefix: string
  sessions: number
  firstSession: number
  seed: number
  durationS: number
  /** 0 = a free port. */
  metricsPort: number
}

/** Parent → worker. */
export type ToWorker = { type: 'start'; startMs: number } | { type: 'stop' }

/** Worker → parent. */
export type FromWorker =
  | { type: 'ready'; metricsUrl: string }
  | { type: 'snapshot'; snapshot: StatsSnapshot }
  | {
      type: 'done'
      report: ProcessReport
      snapshot: StatsSnapshot
      backendFallbacks: number
      /** Each service's breaker state as the shared backend reads it at the end (a cooldown that ran out reads closed). */
      sharedStates: Record<string, string>
    }
  | { type: 'error'; message: string }
