import type { CallOptions } from '../core/call-options.js'
import { systemClock } from '../core/clock.js'
import { serviceOf, type ExecutionContext } from '../core/context.js'
import { EventEmitter } from '../core/events.js'
import { GuardBase, type Next, RUN } from '../core/guard.js'
import {
  optionalFunction,
  optionalNumber,
  optionalString,
  requireNumber,
  requireOptions,
  optionalClock,
} from '../core/validate.js'
import { deepFreeze } from './deep-freeze.js'
import type { DedupeCheck, DedupeEvent, DedupeOptions } from './dedupe-options.js'
import { InFlightCalls } from './in-flight.js'
import { CLAIM, jsonSize, ResultCache } from './result-cache.js'

const OWNER = 'dedupeGuard'
/** Default bound on kept results and claims. */
export const DEFAULT_MAX_ENTRIES = 1_000
/**
 * Highest `maxEntries`: lru-cache allocates its index for `max` entries up front (about 40 bytes
 * each), so a larger bound would take memory before the first call; bound bigger caches by bytes.
 */
export const MAX_DEDUPE_ENTRIES = 1_000_000

const NEW: DedupeCheck = Object.freeze({ status: 'new' })
const IN_PROGRESS: DedupeCheck = Object.freeze({ status: 'in-progress' })

/**
 * Coalesces identical calls: calls with the same key share one upstream call and its result, and
 * a completed result is served for `ttlMs`. Shared results are deep-frozen (plain objects and
 * arrays), so no caller can change what another sees. Errors are never cached.
 */
export class DedupeGuard extends GuardBase {
  readonly name = 'dedupe'
  readonly ttlMs: number
  readonly maxEntries: number
  readonly maxBytes: number | undefined
  private readonly keyOf: ((call: CallOptions) => string | undefined) | undefined
  private readonly service: string | undefined
  private readonly cache: ResultCache
  private readonly calls: InFlightCalls
  private readonly dedupeEmitter = new EventEmitter<DedupeEvent>()
  /** Fires for each keyed call and each `check()`: 'new', 'joined' or 'cached'. Never carries the key. */
  readonly onDedupe = this.dedupeEmitter.addListener

  constructor(options: DedupeOptions) {
    super()
    const o = requireOptions<DedupeOptions>(OWNER, options)
    this.ttlMs = requireNumber(OWNER, 'ttlMs', o.ttlMs, { min: 0 })
    this.maxEntries = optionalNumber(OWNER, 'maxEntries', o.maxEntries, DEFAULT_MAX_ENTRIES, {
      integer: true,
      min: 1,
      max: MAX_DEDUPE_ENTRIES,
    })
    this.maxBytes = optionalNumber(OWNER, 'maxBytes', o.maxBytes, undefined, { integer: true, min: 1 })
    const sizeOf = optionalFunction<(value: unknown, key: string) => number>(OWNER, 'sizeOf', o.sizeOf)
    this.keyOf = optionalFunction(OWNER, 'key', o.key)
    optionalClock(OWNER, o.clock)
    this.service = optionalString(OWNER, 'service', o.service)
    this.cache = new ResultCache({
      ttlMs: this.ttlMs,
      maxEntries: this.maxEntries,
      maxBytes: this.maxBytes,
      sizeOf: sizeOf ?? jsonSize,
      clock: o.clock ?? systemClock,
    })
    // ttlMs 0 keeps no result: a finished call has nothing to hand to the cache.
    this.calls = new InFlightCalls(this.ttlMs > 0 ? (key, value) => this.cache.keep(key, value) : undefined)
  }

  [RUN](next: Next, ctx: ExecutionContext): Promise<unknown> {
    let key = ctx.key
    if (key === undefined && this.keyOf !== undefined) {
      try {
        key = this.keyOf(ctx)
      } catch (error) {
        return Promise.reject(error)
      }
      if (key !== undefined && typeof key !== 'string') {
        return Promise.reject(
          new TypeError(`${OWNER}: option "key" must return a string or undefined, got ${typeof key}`),
        )
      }
    }
    // No key: straight through, nothing allocated.
    if (key === undefined) return next(ctx)
    const kept = this.cache.get(key)
    if (kept !== undefined && kept !== CLAIM) {
      this.emit('cached', ctx)
      return Promise.resolve(kept.value)
    }
    // Whether a call is running is only worth a lookup when someone listens.
    if (this.dedupeEmitter.size > 0) this.emit(this.calls.has(key) ? 'joined' : 'new', ctx)
    return this.calls.join(key, ctx, next)
  }

  /**
   * Manual coalescing, for work that does not run through `execute()`. 'cached' hands back a kept
   * result; 'in-progress' means a claim or a call is running for the key; 'new' means the key was
   * unknown and this check has now claimed it: do the work, then `complete()` or `abandon()`. An
   * unfinished claim expires after `ttlMs`.
   */
  check(key: string): DedupeCheck {
    requireKey('check', key)
    const kept = this.cache.get(key)
    if (kept === CLAIM || (kept === undefined && this.calls.has(key))) {
      this.emit('joined', undefined)
      return IN_PROGRESS
    }
    if (kept !== undefined) {
      this.emit('cached', undefined)
      return { status: 'cached', value: kept.value }
    }
    this.cache.claim(key)
    this.emit('new', undefined)
    return NEW
  }

  /** Stores the result of claimed work (deep-frozen) for `ttlMs`, releasing the claim. */
  complete(key: string, value: unknown): void {
    requireKey('complete', key)
    this.cache.keep(key, deepFreeze(value), true)
  }

  /** Releases a claim without a result, so the next `check()` is 'new'. A kept result stays. */
  abandon(key: string): void {
    requireKey('abandon', key)
    this.cache.release(key)
  }

  /** Results and claims kept, plus calls in flight (the `dedupe_entries` gauge). */
  get size(): number {
    return this.cache.size + this.calls.size
  }

  private emit(result: DedupeEvent['result'], ctx: ExecutionContext | undefined): void {
    if (this.dedupeEmitter.size === 0) return
    const service = ctx === undefined ? (this.service ?? 'default') : serviceOf(ctx, this.service)
    this.dedupeEmitter.emit({ result, service })
  }
}

function requireKey(method: string, key: unknown): void {
  if (typeof key !== 'string')
    throw new TypeError(`${OWNER}.${method}: key must be a string, got ${typeof key}`)
}

/** Creates a dedupe guard. */
export function dedupeGuard(options: DedupeOptions): DedupeGuard {
  return new DedupeGuard(options)
}
