import { LRUCache } from 'lru-cache'
import type { Clock } from '../core/clock.js'

/** A kept result. Boxed because lru-cache cannot store `undefined`, and a result may be undefined. */
export interface Kept {
  readonly value: unknown
}

/** Marks a key claimed by `check()` and not yet completed. */
export const CLAIM: Kept = Object.freeze({ value: undefined })

/**
 * Completed results and `check()` claims, in one lru-cache bounded by count (and optionally by
 * estimated bytes), each entry living `ttlMs`. Calls in flight are never stored here, so an
 * eviction can never abort one.
 */
export class ResultCache {
  private readonly lru: LRUCache<string, Kept>
  private readonly keepResults: boolean

  constructor(o: {
    ttlMs: number
    maxEntries: number
    maxBytes: number | undefined
    sizeOf: (value: unknown, key: string) => number
    clock: Clock
  }) {
    const { clock, sizeOf, maxBytes } = o
    this.keepResults = o.ttlMs > 0
    // lru-cache treats a start time of 0 as "no TTL", and a clock may start at 0: count from 1.
    const origin = clock.now() - 1
    this.lru = new LRUCache<string, Kept>({
      max: o.maxEntries,
      ttl: Math.ceil(o.ttlMs),
      // 0: read the injected clock on every check. Any other value makes lru-cache start a real
      // timer per read to cache the time, which would ignore the injected clock.
      ttlResolution: 0,
      perf: { now: () => clock.now() - origin },
      ...(maxBytes === undefined
        ? {}
        : {
            maxSize: maxBytes,
            sizeCalculation: (kept: Kept, key: string) =>
              kept === CLAIM ? key.length * 2 + 16 : safeSize(sizeOf, kept.value, key, maxBytes),
          }),
    })
  }

  /** The kept result, `CLAIM`, or undefined when the key is unknown or expired. */
  get(key: string): Kept | undefined {
    // Nothing kept (always so with ttlMs 0 and no claims): skip the lookup and its bookkeeping.
    return this.lru.size === 0 ? undefined : this.lru.get(key)
  }

  /**
   * A completed value (already frozen). With `ttlMs` 0 nothing is kept, and a claim is left alone
   * unless `releaseClaim` (the claim holder completing its own work): a call that ran through
   * `execute()` must not drop a `check()` claim it never owned.
   */
  keep(key: string, value: unknown, releaseClaim = false): void {
    if (this.keepResults) this.lru.set(key, { value })
    else if (releaseClaim) this.release(key)
  }

  claim(key: string): void {
    this.lru.set(key, CLAIM)
  }

  /** Releases a claim; a kept value stays. */
  release(key: string): void {
    if (this.lru.peek(key) === CLAIM) this.lru.delete(key)
  }

  /** Entries alive now (expired ones are dropped first, so a gauge does not count them). */
  get size(): number {
    this.lru.purgeStale()
    return this.lru.size
  }
}

/**
 * A positive whole number of bytes, as lru-cache requires. A `sizeOf` that throws or answers
 * nonsense makes the value too large to keep: the result is still delivered, just not cached.
 */
function safeSize(
  sizeOf: (value: unknown, key: string) => number,
  value: unknown,
  key: string,
  maxBytes: number,
): number {
  let size: number
  try {
    size = sizeOf(value, key)
  } catch {
    return maxBytes + 1
  }
  return typeof size === 'number' && Number.isFinite(size) && size >= 0
    ? Math.max(1, Math.ceil(size))
    : maxBytes + 1
}

/** Default `sizeOf`: UTF-16 size of the value's JSON and of the key. */
export function jsonSize(value: unknown, key: string): number {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    return Infinity
  }
  return ((json?.length ?? 9) + key.length) * 2
}
