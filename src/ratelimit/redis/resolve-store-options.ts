import { isRedisClient } from '../../redis-common/connection.js'
import {
  DEFAULT_BACKEND_FAILURE_THRESHOLD,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_KEY_TTL_MS,
  DEFAULT_RECOVERY_CHECK_MS,
  type BackendLogger,
} from '../../circuit/backends/redis/redis-backend-options.js'
import {
  invalidOption,
  optionalClock,
  optionalNumber,
  optionalString,
  requireOptions,
} from '../../core/validate.js'
import {
  DEFAULT_ACTIVE_PROCESS_MS,
  DEFAULT_LEASE_FRACTION,
  DEFAULT_LEASE_MS,
  DEFAULT_RATE_LIMIT_PREFIX,
  type RedisRateLimitStoreOptions,
} from './redis-store-options.js'

const OWNER = 'RedisRateLimitStore'

export type ResolvedStoreOptions = Required<
  Omit<RedisRateLimitStoreOptions, 'fallbackShare' | 'logger' | 'clock'>
> &
  Pick<RedisRateLimitStoreOptions, 'fallbackShare' | 'logger' | 'clock'>

/** Validates the options (RangeError / TypeError naming the option and value) and fills in defaults. */
export function resolveStoreOptions(options: RedisRateLimitStoreOptions): ResolvedStoreOptions {
  const o = requireOptions<RedisRateLimitStoreOptions>(OWNER, options)
  if (!isRedisClient(o.client)) {
    throw new TypeError(
      `${OWNER}: option "client" must be an ioredis Redis or Cluster client, got ${String(o.client)}`,
    )
  }
  const prefix = optionalString(OWNER, 'prefix', o.prefix) ?? DEFAULT_RATE_LIMIT_PREFIX
  if (/[{}]/.test(prefix)) invalidOption(OWNER, 'prefix', 'a string without "{" or "}"', prefix)
  const logger = o.logger
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || typeof (logger as BackendLogger).warn !== 'function')
  ) {
    throw new TypeError(`${OWNER}: option "logger" must have a warn() method, got ${String(logger)}`)
  }
  const positive = { above: 0 }
  return {
    client: o.client,
    prefix,
    commandTimeoutMs: optionalNumber(
      OWNER,
      'commandTimeoutMs',
      o.commandTimeoutMs,
      DEFAULT_COMMAND_TIMEOUT_MS,
      positive,
    ),
    failureThreshold: optionalNumber(
      OWNER,
      'failureThreshold',
      o.failureThreshold,
      DEFAULT_BACKEND_FAILURE_THRESHOLD,
      {
        integer: true,
        min: 1,
      },
    ),
    recoveryCheckMs: optionalNumber(
      OWNER,
      'recoveryCheckMs',
      o.recoveryCheckMs,
      DEFAULT_RECOVERY_CHECK_MS,
      positive,
    ),
    keyTtlMs: optionalNumber(OWNER, 'keyTtlMs', o.keyTtlMs, DEFAULT_KEY_TTL_MS, { integer: true, min: 1 }),
    leaseFraction: optionalNumber(OWNER, 'leaseFraction', o.leaseFraction, DEFAULT_LEASE_FRACTION, {
      min: 0,
      max: 1,
    }),
    leaseMs: optionalNumber(OWNER, 'leaseMs', o.leaseMs, DEFAULT_LEASE_MS, positive),
    fallbackShare: optionalNumber(OWNER, 'fallbackShare', o.fallbackShare, undefined, { above: 0, max: 1 }),
    activeProcessMs: optionalNumber(
      OWNER,
      'activeProcessMs',
      o.activeProcessMs,
      DEFAULT_ACTIVE_PROCESS_MS,
      positive,
    ),
    logger,
    clock: optionalClock(OWNER, o.clock),
  }
}
