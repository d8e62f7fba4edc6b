import { optionalNumber, requireOptions } from '../../core/validate.js'
import { resolveRedisOptions, type ResolvedRedisOptions } from '../../redis-common/redis-options.js'
import {
  DEFAULT_ACTIVE_PROCESS_MS,
  DEFAULT_LEASE_FRACTION,
  DEFAULT_LEASE_MS,
  type RedisRateLimitStoreOptions,
} from './redis-store-options.js'

const OWNER = 'RedisRateLimitStore'

export interface ResolvedStoreOptions extends ResolvedRedisOptions {
  readonly leaseFraction: number
  readonly leaseMs: number
  readonly fallbackShare: number | undefined
  readonly activeProcessMs: number
}

/** Validates the options (RangeError / TypeError naming the option and value) and fills in defaults. */
export function resolveStoreOptions(options: RedisRateLimitStoreOptions): ResolvedStoreOptions {
  const o = requireOptions<RedisRateLimitStoreOptions>(OWNER, options)
  const positive = { above: 0 }
  return {
    ...resolveRedisOptions(OWNER, o),
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
  }
}
