export { RedisCircuitBackend } from './redis-circuit-backend.js'
export {
  type BackendFailureMode,
  type BackendState,
  type BackendStateChange,
  type ConfigMismatch,
  DEFAULT_BACKEND_FAILURE_THRESHOLD,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KEY_TTL_MS,
  DEFAULT_MAX_CACHE_AGE_MS,
  DEFAULT_PREFIX,
  DEFAULT_RECOVERY_CHECK_MS,
  DEFAULT_SUBSCRIPTION_CHECK_MS,
  type RedisCircuitBackendOptions,
} from './redis-backend-options.js'
