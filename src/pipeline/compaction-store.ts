import { systemClock, type Clock } from '../core/clock.js'
import { optionalClock, optionalNumber, requireOptions } from '../core/validate.js'

/** What the store knows about one session. */
export interface SessionRecord {
  /** A live in-flight marker exists (held by this or another process). */
  readonly inFlight: boolean
  /** Compaction attempts made so far. */
  readonly attempts: number
  /** Time left before the session may compact in the background again; 0 when none. */
  readonly cooldownRemainingMs: number
  /** Id of the last message covered by the last successful compaction, if any. */
  readonly boundaryMessageId?: string
}

/**
 * Where the in-flight marker, boundaries and attempt counts live (P8). Memory for one process,
 * Redis (`RedisCompactionStore` from 'breakwater/redis') so a restarted or second process does not
 * compact a session that is already being compacted.
 */
export interface CompactionStore {
  read(sessionId: string): Promise<SessionRecord>
  /** Claims the in-flight marker for `ttlMs` unless a live one exists; resolves whether it did. */
  acquire(sessionId: string, token: string, ttlMs: number): Promise<boolean>
  /** Removes the marker if `token` still holds it (a stale holder never removes a newer marker). */
  release(sessionId: string, token: string): Promise<void>
  /** Counts one attempt; resolves with the new count. */
  countAttempt(sessionId: string): Promise<number>
  /** Starts the session's cooldown. */
  startCooldown(sessionId: string, ms: number): Promise<void>
  /** Records the boundary of a successful compaction. */
  recordBoundary(sessionId: string, boundaryMessageId: string): Promise<void>
}

export interface InMemoryCompactionStoreOptions {
  /** Source of time for marker expiry and cooldowns. Default `systemClock`. */
  clock?: Clock
  /** Sessions remembered; the least recently used is forgotten beyond it. Default 10 000. */
  maxSessions?: number
}

interface Entry {
  marker?: { token: string; expiresAt: number }
  attempts: number
  cooldownUntil: number
  boundaryMessageId?: string
}

/** A store for one process. Bounded: the least recently used sessions are forgotten. */
export class InMemoryCompactionStore implements CompactionStore {
  private readonly entries = new Map<string, Entry>()
  private readonly clock: Clock
  readonly maxSessions: number

  constructor(options?: InMemoryCompactionStoreOptions) {
    const owner = 'InMemoryCompactionStore'
    const o = requireOptions<InMemoryCompactionStoreOptions>(owner, options, true)
    optionalClock(owner, o.clock, false)
    this.clock = o.clock ?? systemClock
    this.maxSessions = optionalNumber(owner, 'maxSessions', o.maxSessions, 10_000, { integer: true, min: 1 })
  }

  read(sessionId: string): Promise<SessionRecord> {
    const e = this.entries.get(sessionId)
    const now = this.clock.now()
    if (e === undefined) return Promise.resolve({ inFlight: false, attempts: 0, cooldownRemainingMs: 0 })
    return Promise.resolve({
      inFlight: e.marker !== undefined && e.marker.expiresAt > now,
      attempts: e.attempts,
      cooldownRemainingMs: Math.max(0, e.cooldownUntil - now),
      ...(e.boundaryMessageId !== undefined ? { boundaryMessageId: e.boundaryMessageId } : {}),
    })
  }

  acquire(sessionId: string, token: string, ttlMs: number): Promise<boolean> {
    const e = this.touch(sessionId)
    const now = this.clock.now()
    if (e.marker !== undefined && e.marker.expiresAt > now) return Promise.resolve(false)
    e.marker = { token, expiresAt: now + ttlMs }
    return Promise.resolve(true)
  }

  release(sessionId: string, token: string): Promise<void> {
    const e = this.entries.get(sessionId)
    if (e?.marker?.token === token) e.marker = undefined
    return Promise.resolve()
  }

  countAttempt(sessionId: string): Promise<number> {
    return Promise.resolve(++this.touch(sessionId).attempts)
  }

  startCooldown(sessionId: string, ms: number): Promise<void> {
    this.touch(sessionId).cooldownUntil = this.clock.now() + ms
    return Promise.resolve()
  }

  recordBoundary(sessionId: string, boundaryMessageId: string): Promise<void> {
    this.touch(sessionId).boundaryMessageId = boundaryMessageId
    return Promise.resolve()
  }

  /** The session's entry, created if needed and moved to most recently used. */
  private touch(sessionId: string): Entry {
    let e = this.entries.get(sessionId)
    if (e !== undefined) this.entries.delete(sessionId)
    else e = { attempts: 0, cooldownUntil: -Infinity }
    this.entries.set(sessionId, e)
    if (this.entries.size > this.maxSessions) this.entries.delete(this.entries.keys().next().value!)
    return e
  }
}
