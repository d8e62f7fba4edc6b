import type { Cluster, Redis } from 'ioredis'
import type { Clock } from '../../core/clock.js'
import type { LoggerOption } from '../../core/logger.js'

export interface RedisRateLimitStoreOptions {
  /**
   * The application's ioredis client (`Redis` or `Cluster`, recognised by shape). It is only
   * duplicated: the store opens its own command connection (no offline queue, short timeout) and
   * never changes or closes this one. Required.
   */
  client: Redis | Cluster
  /** Key prefix; may not contain `{` or `}` (the service name is the hash tag). Default `'breakwater'`. */
  prefix?: string
  /**
   * How long one Redis command may take before it counts as a backend error and the call is
   * answered from the per-process share (ioredis `commandTimeout`). A number > 0. Default 250 ms.
   */
  commandTimeoutMs?: number
  /** Consecutive backend errors that switch to the per-process share. An integer >= 1. Default 3. */
  failureThreshold?: number
  /** While on the share, how often a background check tries Redis again. A number > 0. Default 1 000 ms. */
  recoveryCheckMs?: number
  /** Idle time after which a service's hash expires (PEXPIRE on every write). An integer >= 1. Default 86 400 000 (a day). */
  keyTtlMs?: number
  /**
   * The spare lease a take may carry beyond what the calls waiting need, as a share of the limit:
   * later calls of this process use it without a round trip. Only budget that is there at the time
   * is leased, never more than half of it. A number in [0, 1]; 0 turns spare leases off. Default 0.02.
   */
  leaseFraction?: number
  /**
   * How long budget a process took and has not used may still be used there; after that it goes
   * back to the fleet with the process's next take. A number > 0. Default 1 000 ms.
   */
  leaseMs?: number
  /**
   * The share of each budget one process may use while Redis is unusable. Default: 1 / the number
   * of processes that took from the service's budget during the last `activeProcessMs` (1 when this
   * process has not heard from Redis yet). A number in (0, 1]. Never unlimited.
   */
  fallbackShare?: number
  /** How long a process counts as active after its last take, for the fallback share. A number > 0. Default 60 000 ms. */
  activeProcessMs?: number
  /**
   * Where the store logs: the core's `Logger` (`debug/info/warn/error(message, fields)`; one with
   * `warn()` only is accepted too, and then hears no info entries). Each entry has a constant
   * message and structured fields, always `component: 'RedisRateLimitStore'` and `prefix`, plus:
   * - warn, once per switch to the per-process share: `{ from: 'redis', to: 'fallback',
   *   fallback: 'share', error, errorName, errorCode? }` (`error` is Redis's message);
   * - info, once per return to the fleet budget: `{ from: 'fallback', to: 'redis', fallback: 'share' }`.
   * Nothing is logged per call, and nothing at debug or error. Default `console`.
   */
  logger?: LoggerOption
  /** Source of time for lease ages and the background checks. Default `systemClock`. */
  clock?: Clock
}

export const DEFAULT_LEASE_FRACTION = 0.02
export const DEFAULT_LEASE_MS = 1_000
export const DEFAULT_ACTIVE_PROCESS_MS = 60_000
/** Spare lease, in calls, for a budget kind that has no limit (so it only rarely needs a round trip). */
export const UNLIMITED_SPARE_CALLS = 16
/**
 * An observation is sent to Redis at once (rather than with the next take) when it says less is
 * left than this process last heard by more than this share of the limit, or when it changes a limit
 * or pauses the budget.
 */
export const URGENT_SHARE_OF_LIMIT = 0.1
