import {
  MAX_TIMER_MS,
  optionalNumber,
  optionalOneOf,
  optionalRandom,
  requireOptions,
} from '../../../core/validate.js'
import { resolveRedisOptions, type ResolvedRedisOptions } from '../../../redis-common/redis-options.js'
import type { CircuitBackend } from '../../circuit-backend.js'
import { optionalBackend } from '../../check-shapes.js'
import {
  type BackendFailureMode,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_CACHE_AGE_MS,
  DEFAULT_MAX_CACHED_SERVICES,
  DEFAULT_SUBSCRIPTION_CHECK_MS,
  type RedisCircuitBackendOptions,
} from './redis-backend-options.js'

const OWNER = 'RedisCircuitBackend'
const MODES: readonly BackendFailureMode[] = ['local', 'allow', 'deny']

export interface ResolvedRedisBackendOptions extends ResolvedRedisOptions {
  readonly onBackendFailure: BackendFailureMode
  readonly subscriptionCheckMs: number
  readonly maxCacheAgeMs: number
  readonly maxServices: number
  readonly flushIntervalMs: number
  readonly localBackend: CircuitBackend | undefined
  readonly random: () => number
}

/** Validates the options (RangeError / TypeError naming the option and value) and fills in defaults. */
export function resolveRedisBackendOptions(options: RedisCircuitBackendOptions): ResolvedRedisBackendOptions {
  const o = requireOptions<RedisCircuitBackendOptions>(OWNER, options)
  return {
    ...resolveRedisOptions(OWNER, o),
    onBackendFailure: optionalOneOf(OWNER, 'onBackendFailure', o.onBackendFailure, MODES, 'local'),
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
    flushIntervalMs: optionalNumber(OWNER, 'flushIntervalMs', o.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, {
      above: 0,
    }),
    localBackend: optionalBackend(OWNER, o.localBackend),
    random: optionalRandom(OWNER, o.random) ?? Math.random,
  }
}
