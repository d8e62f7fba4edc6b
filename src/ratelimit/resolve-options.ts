import type { Clock } from '../core/clock.js'
import {
  invalidOption,
  MAX_TIMER_MS,
  optionalBoolean,
  optionalClock,
  optionalNumber,
  optionalString,
  requireOptions,
} from '../core/validate.js'
import {
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  type RateLimitOptions,
} from './rate-limit-options.js'
import type { RateLimitStore } from './rate-limit-store.js'

const OWNER = 'rateLimitGuard'
const STORE_MEMBERS = ['take', 'learn', 'peek'] as const

export interface ResolvedRateLimitOptions {
  service: string | undefined
  requests: number | undefined
  tokens: number | undefined
  windowMs: number
  learnFromHeaders: boolean
  maxWaitMs: number
  store: RateLimitStore | undefined
  clock: Clock | undefined
}

/** Validates a store by shape, so a store from another copy of breakwater works too. */
export function optionalStore(owner: string, value: unknown): RateLimitStore | undefined {
  if (value === undefined) return undefined
  const expected = `${owner}: option "store" must be a RateLimitStore`
  if (typeof value !== 'object' || value === null) throw new TypeError(`${expected}, got ${String(value)}`)
  const missing = STORE_MEMBERS.find((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
  if (missing !== undefined) throw new TypeError(`${expected}, got an object without ${missing}()`)
  return value as RateLimitStore
}

/** Validates the options (L5: RangeError / TypeError naming the option and value) and fills in defaults. */
export function resolveRateLimitOptions(options: RateLimitOptions): ResolvedRateLimitOptions {
  const o = requireOptions<RateLimitOptions>(OWNER, options)
  const positive = { above: 0 }
  const requests = optionalNumber(OWNER, 'requests', o.requests, undefined, positive)
  const tokens = optionalNumber(OWNER, 'tokens', o.tokens, undefined, positive)
  const learnFromHeaders = optionalBoolean(OWNER, 'learnFromHeaders', o.learnFromHeaders, true)
  if (requests === undefined && tokens === undefined && !learnFromHeaders) {
    invalidOption(
      OWNER,
      'learnFromHeaders',
      'true when neither "requests" nor "tokens" is set (there would be no budget at all)',
      learnFromHeaders,
    )
  }
  return {
    service: optionalString(OWNER, 'service', o.service),
    requests,
    tokens,
    windowMs: optionalNumber(OWNER, 'windowMs', o.windowMs, DEFAULT_RATE_LIMIT_WINDOW_MS, {
      above: 0,
      max: MAX_TIMER_MS,
    }),
    learnFromHeaders,
    maxWaitMs: optionalNumber(OWNER, 'maxWaitMs', o.maxWaitMs, DEFAULT_MAX_WAIT_MS, {
      min: 0,
      max: MAX_TIMER_MS,
    }),
    store: optionalStore(OWNER, o.store),
    clock: optionalClock(OWNER, o.clock),
  }
}
