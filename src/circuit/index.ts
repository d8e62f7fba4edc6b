export { circuitGuard, CircuitGuard } from './circuit-guard.js'
export type {
  CircuitOptions,
  CircuitOutcomeEvent,
  CircuitRejectEvent,
  FailureRateOptions,
} from './circuit-options.js'
export type {
  Admission,
  CircuitBackend,
  CircuitConfig,
  CircuitSnapshot,
  CircuitState,
  OutcomeReport,
  StateChange,
} from './circuit-backend.js'
export {
  DEFAULT_MAX_SERVICES,
  InMemoryCircuitBackend,
  type InMemoryCircuitBackendOptions,
} from './backends/memory-backend.js'
export {
  DEFAULT_MAX_RECOVERY_CAP_MS,
  DEFAULT_MAX_RECOVERY_FACTOR,
  DEFAULT_PROBE_LEASE_MS,
  openDurationMs,
} from './recovery-backoff.js'
