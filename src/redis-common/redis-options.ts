import type { Cluster, Redis } from 'ioredis'
import { systemClock, type Clock } from '../core/clock.js'
import { type Logger, resolveLogger, withFields } from '../core/logger.js'
import { invalidOption, optionalClock, optionalNumber, optionalString } from '../core/validate.js'
import { isRedisClient } from './connection.js'

export const DEFAULT_PREFIX = 'breakwater'
export const DEFAULT_COMMAND_TIMEOUT_MS = 250
export const DEFAULT_BACKEND_FAILURE_THRESHOLD = 3
export const DEFAULT_RECOVERY_CHECK_MS = 1_000
export const DEFAULT_KEY_TTL_MS = 86_400_000
/** The shortest bound on connecting; slower command timeouts get four times theirs. */
const MIN_CONNECT_TIMEOUT_MS = 1_000

/**
 * The options every component that keeps shared state in Redis takes. Each component declares
 * and documents them in its own options type, saying what they mean there; here they are only
 * read, and validated.
 */
export type CommonRedisOption =
  | 'client'
  | 'prefix'
  | 'commandTimeoutMs'
  | 'failureThreshold'
  | 'recoveryCheckMs'
  | 'keyTtlMs'
  | 'logger'
  | 'clock'

export interface ResolvedRedisOptions {
  readonly client: Redis | Cluster
  readonly prefix: string
  readonly commandTimeoutMs: number
  /** How long connecting (first, or by a background check) may take. */
  readonly connectTimeoutMs: number
  readonly failureThreshold: number
  readonly recoveryCheckMs: number
  readonly keyTtlMs: number
  /** The given logger (or `console`), adding `{ component: owner, prefix }` to every entry. */
  readonly logger: Logger
  readonly clock: Clock
}

/**
 * Validates the common options of a Redis component named `owner` (RangeError / TypeError naming
 * the option and value) and fills in defaults; `o` has passed `requireOptions` already.
 */
export function resolveRedisOptions(
  owner: string,
  o: Partial<Record<CommonRedisOption, unknown>>,
): ResolvedRedisOptions {
  if (!isRedisClient(o.client)) {
    throw new TypeError(
      `${owner}: option "client" must be an ioredis Redis or Cluster client, got ${String(o.client)}`,
    )
  }
  const prefix = optionalString(owner, 'prefix', o.prefix) ?? DEFAULT_PREFIX
  if (/[{}]/.test(prefix)) invalidOption(owner, 'prefix', 'a string without "{" or "}"', prefix)
  const positive = { above: 0 }
  const commandTimeoutMs = optionalNumber(
    owner,
    'commandTimeoutMs',
    o.commandTimeoutMs,
    DEFAULT_COMMAND_TIMEOUT_MS,
    positive,
  )
  return {
    client: o.client,
    prefix,
    commandTimeoutMs,
    connectTimeoutMs: Math.max(MIN_CONNECT_TIMEOUT_MS, commandTimeoutMs * 4),
    failureThreshold: optionalNumber(
      owner,
      'failureThreshold',
      o.failureThreshold,
      DEFAULT_BACKEND_FAILURE_THRESHOLD,
      { integer: true, min: 1 },
    ),
    recoveryCheckMs: optionalNumber(
      owner,
      'recoveryCheckMs',
      o.recoveryCheckMs,
      DEFAULT_RECOVERY_CHECK_MS,
      positive,
    ),
    keyTtlMs: optionalNumber(owner, 'keyTtlMs', o.keyTtlMs, DEFAULT_KEY_TTL_MS, { integer: true, min: 1 }),
    logger: withFields(resolveLogger(owner, o.logger), { component: owner, prefix }),
    clock: optionalClock(owner, o.clock) ?? systemClock,
  }
}
