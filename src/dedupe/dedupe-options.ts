import type { CallOptions } from '../core/call-options.js'
import type { Clock } from '../core/clock.js'

export interface DedupeOptions {
  /**
   * How long a completed result is served to later calls with the same key, in ms; also how long
   * a `check()` claim lasts. Required; a finite number >= 0 (fractions are rounded up). An entry is
   * served while its age is at most `ttlMs`. 0 keeps nothing after a call completes: only calls
   * running at the same time are coalesced, and a claim lasts until `complete()`, `abandon()` or
   * eviction.
   */
  ttlMs: number
  /**
   * Most results and claims kept at once; the least recently used is evicted first. Calls in
   * flight are not counted and never evicted. Default 1 000; an integer from 1 to 1 000 000
   * (`MAX_DEDUPE_ENTRIES`: the cache's index is allocated up front, so bound larger caches with
   * `maxBytes`).
   */
  maxEntries?: number
  /**
   * Upper bound on the estimated memory of the kept results, in bytes (see `sizeOf`). A result
   * larger than this is shared with its waiters but not kept. Default: no byte bound; an integer >= 1.
   */
  maxBytes?: number
  /**
   * Estimated size of one kept result in bytes, used only with `maxBytes`. Default: twice the
   * length of its JSON plus twice the key's length (UTF-16); a value JSON cannot encode counts as
   * too large to keep.
   */
  sizeOf?: (value: unknown, key: string) => number
  /**
   * Derives the dedupe key of a call when the call passes no `key`. Return undefined to let the
   * call through without deduplication. Default: only the call's own `key` is used.
   */
  key?: (call: CallOptions) => string | undefined
  /** Source of time for the TTL. Default `systemClock`. */
  clock?: Clock
  /** Service name used in events when the call names none. */
  service?: string
}

/** What `check()` found for a key. */
export type DedupeCheck =
  | { readonly status: 'new' }
  | { readonly status: 'in-progress' }
  | { readonly status: 'cached'; readonly value: unknown }

export interface DedupeEvent {
  /**
   * 'new': this call (or check) goes upstream; 'joined': it shares a call already running (or a
   * claim); 'cached': it was answered from a completed result. Keys are never reported.
   */
  result: 'new' | 'joined' | 'cached'
  service: string
}
