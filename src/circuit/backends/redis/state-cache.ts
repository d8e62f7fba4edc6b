import type { CircuitState } from '../../circuit-backend.js'

/** What this process last learned about one service's shared breaker. */
export interface CachedState {
  gen: number
  state: CircuitState
  /** Open time (or probe lease) left when learned; Infinity while isolated. */
  remainingMs: number
  failures: number
  /** Local clock reading when learned: only the elapsed duration is ever used. */
  at: number
  /** Learned while subscribed to the service's channel: only then can a change reach us. */
  trusted: boolean
}

/**
 * The hot-path cache (D3): per service, the newest state seen in a script reply or an
 * invalidation message. Entries older than `maxAgeMs` are not trusted, so a lost message cannot
 * pin a state; the least recently learned entry goes first when `maxEntries` is reached.
 */
export class StateCache {
  private readonly entries = new Map<string, CachedState>()

  constructor(
    private readonly maxAgeMs: number,
    private readonly maxEntries: number,
  ) {}

  /** The entry if it is younger than the maximum age, else undefined. */
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
    gen: number,
    state: CircuitState,
    remainingMs: number,
    failures: number,
    now: number,
    sameGenToo: boolean,
    trusted: boolean,
  ): boolean {
    const e = this.entries.get(service)
    if (e !== undefined) {
      if (gen < e.gen || (gen === e.gen && !sameGenToo)) return false
      e.gen = gen
      e.state = state
      e.remainingMs = remainingMs
      e.failures = failures
      e.at = now
      e.trusted = trusted
      return true
    }
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(service, { gen, state, remainingMs, failures, at: now, trusted })
    return true
  }

  /** The last known state, however old (to tell a transition from a repeat). */
  last(service: string): CachedState | undefined {
    return this.entries.get(service)
  }

  forget(service: string): void {
    this.entries.delete(service)
  }

  clear(): void {
    this.entries.clear()
  }
}
