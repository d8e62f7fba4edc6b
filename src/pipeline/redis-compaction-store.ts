import { optionalNumber, optionalString, requireOptions } from '../core/validate.js'
import type { CompactionStore, SessionRecord } from './compaction-store.js'
import { RELEASE_MARKER_SCRIPT } from './release-marker-script.js'

/** The ioredis commands the store uses (a `Redis` or `Cluster` instance fits, from any copy of ioredis). */
// Loose signatures on purpose: ioredis overloads every command, and another copy of ioredis must fit.
export interface RedisStoreClient {
  set(...args: any[]): Promise<unknown>
  eval(...args: any[]): Promise<unknown>
  del(...args: any[]): Promise<unknown>
  multi(): RedisMulti
}
/** A MULTI transaction, as ioredis builds it. */
export interface RedisMulti {
  get(...args: any[]): RedisMulti
  pttl(...args: any[]): RedisMulti
  incr(...args: any[]): RedisMulti
  pexpire(...args: any[]): RedisMulti
  exec(): Promise<[Error | null, unknown][] | null>
}

export interface RedisCompactionStoreOptions {
  /**
   * An ioredis client. Use a dedicated connection with `enableOfflineQueue: false` and a
   * `commandTimeout`: a store error only skips a compaction, a hung one delays its decision. Required.
   */
  client: RedisStoreClient
  /** Key prefix (no braces: the session is the Cluster hash tag). Default 'breakwater'. */
  prefix?: string
  /** Life of attempt counts and boundaries after the last write, in ms. Default 7 days. */
  recordTtlMs?: number
}

const OWNER = 'RedisCompactionStore'
const DEFAULT_RECORD_TTL_MS = 7 * 24 * 3_600_000

/**
 * Compaction state shared by every process on one Redis (P8). The in-flight marker is
 * `SET NX PX` with a holder token, so a restarted or second process does not compact a session
 * already in flight, and a crashed holder's marker expires; cooldowns are keys with a TTL, so no
 * process's clock is trusted. Keys: `<prefix>:cmp:{<session>}:lock|attempts|cooldown|boundary`.
 */
export class RedisCompactionStore implements CompactionStore {
  private readonly client: RedisStoreClient
  readonly prefix: string
  readonly recordTtlMs: number

  constructor(options: RedisCompactionStoreOptions) {
    const o = requireOptions<RedisCompactionStoreOptions>(OWNER, options)
    const c = o.client as unknown as Record<string, unknown> | undefined
    if (
      typeof c !== 'object' ||
      c === null ||
      !['set', 'eval', 'del', 'multi'].every((m) => typeof c[m] === 'function')
    ) {
      throw new TypeError(`${OWNER}: option "client" must be an ioredis client, got ${String(o.client)}`)
    }
    this.client = o.client
    this.prefix = optionalString(OWNER, 'prefix', o.prefix) ?? 'breakwater'
    if (/[{}]/.test(this.prefix)) {
      throw new RangeError(
        `${OWNER}: option "prefix" must not contain braces, got ${JSON.stringify(this.prefix)}`,
      )
    }
    this.recordTtlMs = optionalNumber(OWNER, 'recordTtlMs', o.recordTtlMs, DEFAULT_RECORD_TTL_MS, {
      integer: true,
      min: 1,
    })
  }

  /** The key of one of a session's records; the session is the hash tag, so all of them share a slot. */
  key(sessionId: string, record: 'lock' | 'attempts' | 'cooldown' | 'boundary'): string {
    return `${this.prefix}:cmp:{${encodeURIComponent(sessionId)}}:${record}`
  }

  async read(sessionId: string): Promise<SessionRecord> {
    const replies = await this.client
      .multi()
      .pttl(this.key(sessionId, 'lock'))
      .get(this.key(sessionId, 'attempts'))
      .pttl(this.key(sessionId, 'cooldown'))
      .get(this.key(sessionId, 'boundary'))
      .exec()
    const [lockTtl, attempts, cooldownTtl, boundary] = values(replies, 4)
    return {
      // PTTL: -2 no key, -1 no expiry (never written by us; treated as held).
      inFlight: Number(lockTtl) !== -2,
      attempts: attempts == null ? 0 : Number(attempts),
      cooldownRemainingMs: Math.max(0, Number(cooldownTtl)),
      ...(typeof boundary === 'string' ? { boundaryMessageId: boundary } : {}),
    }
  }

  async acquire(sessionId: string, token: string, ttlMs: number): Promise<boolean> {
    const reply = await this.client.set(
      this.key(sessionId, 'lock'),
      token,
      'PX',
      Math.max(1, Math.ceil(ttlMs)),
      'NX',
    )
    return reply === 'OK'
  }

  async release(sessionId: string, token: string): Promise<void> {
    await this.client.eval(RELEASE_MARKER_SCRIPT, 1, this.key(sessionId, 'lock'), token)
  }

  async countAttempt(sessionId: string): Promise<number> {
    const key = this.key(sessionId, 'attempts')
    const replies = await this.client.multi().incr(key).pexpire(key, this.recordTtlMs).exec()
    return Number(values(replies, 2)[0])
  }

  async startCooldown(sessionId: string, ms: number): Promise<void> {
    const key = this.key(sessionId, 'cooldown')
    if (ms < 1) await this.client.del(key)
    else await this.client.set(key, '1', 'PX', Math.ceil(ms))
  }

  async recordBoundary(sessionId: string, boundaryMessageId: string): Promise<void> {
    await this.client.set(this.key(sessionId, 'boundary'), boundaryMessageId, 'PX', this.recordTtlMs)
  }
}

/** The replies of a MULTI, throwing the first command error. */
function values(replies: [Error | null, unknown][] | null, count: number): unknown[] {
  if (replies === null || replies.length !== count) throw new Error(`${OWNER}: transaction aborted`)
  return replies.map(([error, value]) => {
    if (error) throw error
    return value
  })
}
