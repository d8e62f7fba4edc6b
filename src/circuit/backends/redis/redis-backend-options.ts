import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../../core/clock.js'
import type { LoggerOption } from '../../../core/logger.js'
import type { CircuitBackend, CircuitConfig } from '../../circuit-backend.js'

/** What the backend does with calls while Redis is unusable (D5). */
export type BackendFailureMode = 'local' | 'allow' | 'deny'

export type { BackendState, BackendStateChange } from '../../../redis-common/backend-health.js'
export {
  DEFAULT_BACKEND_FAILURE_THRESHOLD,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KEY_TTL_MS,
  DEFAULT_PREFIX,
  DEFAULT_RECOVERY_CHECK_MS,
} from '../../../redis-common/redis-options.js'

export interface ConfigMismatch {
  readonly service: string
  /** The configuration this process asked for. */
  readonly local: CircuitConfig
  /** The configuration stored in Redis, which the shared breaker keeps applying until `reset()`. */
  readonly stored: CircuitConfig | string
}

export interface RedisCircuitBackendOptions {
  /**
   * The application's ioredis client (`Redis` or `Cluster`, recognised by shape). It is only
   * duplicated: the backend opens its own command connection (no offline queue, short timeout)
   * and its own subscriber connection, and never changes or closes this one. Required.
   */
  client: Redis | Cluster
  /** Key prefix; may not contain `{` or `}` (the service name is the hash tag). Default `'breakwater'`. */
  prefix?: string
  /**
   * How long one Redis command may take before it counts as a backend error and the call is
   * answered locally (ioredis `commandTimeout` on the dedicated connection). Default 250 ms.
   */
  commandTimeoutMs?: number
  /**
   * What calls get while Redis is unusable: `'local'` (default) a per-process in-memory breaker,
   * fed with every outcome all along so it never starts cold; `'allow'` every call runs; `'deny'`
   * every call fails fast with BrokenCircuitError.
   */
  onBackendFailure?: BackendFailureMode
  /** Consecutive backend errors (timeouts, refused connections, script errors) that switch to the fallback. Default 3. */
  failureThreshold?: number
  /**
   * While on the fallback, how often a background check looks whether Redis is usable again. The
   * check runs a read-only breaker script (EVALSHA / EVAL) on the key whose command failed last and
   * publishes on that key's check channel, so it passes only when the breaker scripts can really
   * run and publish there (a PING would pass for an ACL user without EVAL, and the backend would
   * flap). Default 1 000 ms.
   */
  recoveryCheckMs?: number
  /**
   * Cluster only: how often the sharded subscriptions are compared with the Cluster's slot map (one
   * CLUSTER SHARDS), so a subscription lost without any signal (a hung master replaced by its
   * replica) is noticed and made again on the new master; losses Redis signals (a failover's
   * `sunsubscribe`, MOVED, a closed connection) are handled at once. Runs only while subscribed.
   * Default 1 000 ms.
   */
  subscriptionCheckMs?: number
  /**
   * Longest time a cached state is trusted without hearing from Redis, so a lost invalidation
   * message cannot pin a state. Default 5 000 ms.
   */
  maxCacheAgeMs?: number
  /** Most services whose state is cached. Default 10 000. */
  maxServices?: number
  /** Idle time after which a service's hash expires (PEXPIRE, refreshed on every write). Default 86 400 000 (a day). */
  keyTtlMs?: number
  /** How often locally counted successes are flushed (failure-rate mode only, HINCRBY). Default 100 ms. */
  flushIntervalMs?: number
  /**
   * Where the backend logs: the core's `Logger` (`debug/info/warn/error(message, fields)`; one
   * with `warn()` only is accepted too, and then hears no info entries). Each entry has a constant
   * message and structured fields, always `component: 'RedisCircuitBackend'` and `prefix`, plus:
   * - warn, once per switch to the fallback: `{ from: 'redis', to: 'fallback', fallback, error,
   *   errorName, errorCode? }` (`fallback` is the `onBackendFailure` mode, `error` Redis's message);
   * - info, once per return to Redis: `{ from: 'fallback', to: 'redis', fallback }`;
   * - warn, once per service and stored value, a configuration mismatch: `{ service, stored, local }`;
   * - warn, an open state put back after Redis lost it: `{ service, reason, isolated, remainingMs?,
   *   cooling }`;
   * - info, the subscriber connection lost `{ reason }`, and reconnected (only when Redis stayed
   *   usable meanwhile; otherwise the return from the fallback says it);
   * - info, sharded subscriptions lost (Cluster): `{ services, reason }` (`services` a count).
   * Nothing is logged per call, and nothing at debug or error. Default `console`.
   */
  logger?: LoggerOption
  /**
   * The per-process breaker used with `onBackendFailure: 'local'`. Default a new
   * `InMemoryCircuitBackend({ clock })`.
   */
  localBackend?: CircuitBackend
  /** Source of time for cache ages and the background timers. Default `systemClock`. */
  clock?: Clock
  /** Source of randomness in [0, 1) for backoff jitter and probe tokens. Default `Math.random`. */
  random?: () => number
}

export const DEFAULT_SUBSCRIPTION_CHECK_MS = 1_000
export const DEFAULT_MAX_CACHE_AGE_MS = 5_000
export const DEFAULT_MAX_CACHED_SERVICES = 10_000
export const DEFAULT_FLUSH_INTERVAL_MS = 100
