import type { CircuitConfig, CircuitState } from '../../circuit-backend.js'

/** What this process last learned about one service's shared breaker. */
export interface CachedState {
  gen: number
  state: CircuitState
  /** Open time (or probe lease) left when learned; Infinity while isolated. */
  remainingMs: number
  failures: number
  /** Open only for a provider's cooldown: closed again once `remainingMs` is up (D6). */
  cooling: boolean
  /** Local clock reading when learned: only the elapsed duration is ever used. */
  at: number
  /**
   * Learned while subscribed to the service's channel (the subscription was confirmed before the
   * command was sent and is still the same): only then can a later change reach us.
   */
  trusted: boolean
  /** The configuration of the last guard that asked, for work done on the service's behalf. */
  config: CircuitConfig | undefined
}

/**
 * The hot-path cache (D3): per service, the newest state seen in a script reply or an
 * invalidation message. Entries older than `maxAgeMs` are not trusted, so a lost message cannot
 * pin a state; the least recently learned entry goes first when `maxEntries` is reached.
 * Invalidating an entry stops it answering calls but keeps its generation: the newest generation
 * seen is how a state lost from Redis is recognised (an older one comes back).
 */
export class StateCache {
  private readonly entries = new Map<string, CachedState>()

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The entry if it may answer a call (trusted, younger than the maximum age), else undefined. */
  fresh(service: string, now: number): CachedState | undefined {
    const e = this.entries.get(service)
    return e !== undefined && e.trusted && now - e.at <= this.maxAgeMs ? e : undefined
  }

  /**
   * Stores what a script replied (`sameGenToo`: a reply at the current generation refreshes the
   * remaining time) or what a message said (only a newer generation applies). False when ignored.
   */
  learn(
    service: string,
    update: Omit<CachedState, 'at' | 'config'>,
    now: number,
    sameGenToo: boolean,
    config?: CircuitConfig,
  ): boolean {
    const e = this.entries.get(service)
    if (e !== undefined) {
      if (update.gen < e.gen || (update.gen === e.gen && !sameGenToo)) return false
      // A cooldown this process already saw end here is not reopened by an older reply of it.
      if (update.gen === e.gen && e.state === 'closed' && update.state === 'open' && update.cooling) {
        return false
      }
      Object.assign(e, update)
      e.at = now
      if (config !== undefined) e.config = config
      return true
    }
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(service, { ...update, at: now, config })
    return true
  }

  /**
   * A cached cooldown whose time is up: the service is closed again, here, without a round trip
   * (the script would close it the same way). Same generation: any news from Redis still wins.
   */
  endCooldown(e: CachedState): void {
    e.state = 'closed'
    e.cooling = false
    e.remainingMs = 0
  }

  /** The last known state, however old or untrusted (to tell a transition from a repeat). */
  last(service: string): CachedState | undefined {
    return this.entries.get(service)
  }

  /**
   * Takes `gen` as the service's generation from now on, although it is older (Redis lost state
   * and there was nothing to put back): its history is the one that counts, and what the entry
   * says stays the base for telling the next transition.
   */
  rebase(service: string, gen: number): void {
    const e = this.entries.get(service)
    if (e !== undefined) e.gen = gen
  }

  forget(service: string): void {
    this.entries.delete(service)
  }

  /** Stops one service's entry answering calls (its subscription was lost). */
  invalidate(service: string): void {
    const e = this.entries.get(service)
    if (e !== undefined) e.trusted = false
  }

  /** Stops every entry answering calls (the subscriber reconnected, the backend switched). */
  invalidateAll(): void {
    for (const e of this.entries.values()) e.trusted = false
  }
}
