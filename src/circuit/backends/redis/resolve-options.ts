import {
  invalidOption,
  MAX_TIMER_MS,
  optionalRandom,
  optionalNumber,
  optionalOneOf,
  optionalString,
  requireOptions,
} from '../../../core/validate.js'
import { optionalBackend, optionalClock } from '../../check-shapes.js'
import {
  type BackendFailureMode,
  type BackendLogger,
  DEFAULT_BACKEND_FAILURE_THRESHOLD,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_KEY_TTL_MS,
  DEFAULT_MAX_CACHE_AGE_MS,
  DEFAULT_MAX_CACHED_SERVICES,
  DEFAULT_PREFIX,
  DEFAULT_RECOVERY_CHECK_MS,
  DEFAULT_SUBSCRIPTION_CHECK_MS,
  type RedisCircuitBackendOptions,
} from './redis-backend-options.js'
import { isRedisClient } from '../../../redis-common/connection.js'

const OWNER = 'RedisCircuitBackend'
const MODES: readonly BackendFailureMode[] = ['local', 'allow', 'deny']

export type ResolvedRedisBackendOptions = Required<
  Omit<RedisCircuitBackendOptions, 'logger' | 'localBackend' | 'clock' | 'random'>
> &
  Pick<RedisCircuitBackendOptions, 'logger' | 'localBackend' | 'clock' | 'random'>

/** Validates the options (RangeError / TypeError naming the option and value) and fills in defaults. */
export function resolveRedisBackendOptions(options: RedisCircuitBackendOptions): ResolvedRedisBackendOptions {
  const o = requireOptions<RedisCircuitBackendOptions>(OWNER, options)
  if (!isRedisClient(o.client)) {
    throw new TypeError(
      `${OWNER}: option "client" must be an ioredis Redis or Cluster client, got ${String(o.client)}`,
    )
  }
  const prefix = optionalString(OWNER, 'prefix', o.prefix) ?? DEFAULT_PREFIX
  if (/[{}]/.test(prefix)) invalidOption(OWNER, 'prefix', 'a string without "{" or "}"', prefix)
  const positive = { above: 0 }
  const logger = o.logger
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || typeof (logger as BackendLogger).warn !== 'function')
  ) {
    throw new TypeError(`${OWNER}: option "logger" must have a warn() method, got ${String(logger)}`)
  }
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
    onBackendFailure: optionalOneOf(OWNER, 'onBackendFailure', o.onBackendFailure, MODES, 'local'),
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
    subscriptionCheckMs: optionalNumber(
      OWNER,
      'subscriptionCheckMs',
      o.subscriptionCheckMs,
      DEFAULT_SUBSCRIPTION_CHECK_MS,
      { above: 0, max: MAX_TIMER_MS },
    ),
    maxCacheAgeMs: optionalNumber(OWNER, 'maxCacheAgeMs', o.maxCacheAgeMs, DEFAULT_MAX_CACHE_AGE_MS, {
      min: 0,
    }),
    maxServices: optionalNumber(OWNER, 'maxServices', o.maxServices, DEFAULT_MAX_CACHED_SERVICES, {
      integer: true,
      min: 1,
    }),
    keyTtlMs: optionalNumber(OWNER, 'keyTtlMs', o.keyTtlMs, DEFAULT_KEY_TTL_MS, { integer: true, min: 1 }),
    flushIntervalMs: optionalNumber(
      OWNER,
      'flushIntervalMs',
      o.flushIntervalMs,
      DEFAULT_FLUSH_INTERVAL_MS,
      positive,
    ),
    logger,
    localBackend: optionalBackend(OWNER, o.localBackend),
    clock: optionalClock(OWNER, o.clock),
    random: optionalRandom(OWNER, o.random),
  }
}
