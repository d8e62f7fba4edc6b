import { describe, expect, it } from 'vitest'
import { type InvalidOptionRow, itRejectsEach } from '../helpers/invalid-options.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'

/** Every invalid option throws at construction, with the right type, naming the option and the value. */
const rows: InvalidOptionRow[] = [
  [
    'missing options',
    () => dedupeGuard(undefined as never),
    TypeError,
    /dedupeGuard: options must be an object/,
  ],
  ['ttlMs missing', () => dedupeGuard({} as never), TypeError, /"ttlMs".*got undefined/],
  ['ttlMs < 0', () => dedupeGuard({ ttlMs: -1 }), RangeError, /"ttlMs".*got -1/],
  ['ttlMs NaN', () => dedupeGuard({ ttlMs: NaN }), RangeError, /"ttlMs".*got NaN/],
  ['ttlMs Infinity', () => dedupeGuard({ ttlMs: Infinity }), RangeError, /"ttlMs".*got Infinity/],
  ['ttlMs string', () => dedupeGuard({ ttlMs: '5' as never }), TypeError, /"ttlMs".*got "5"/],
  ['maxEntries 0', () => dedupeGuard({ ttlMs: 1, maxEntries: 0 }), RangeError, /"maxEntries".*got 0/],
  [
    'maxEntries above MAX_DEDUPE_ENTRIES (it would allocate the index up front)',
    () => dedupeGuard({ ttlMs: 1, maxEntries: 1e7 }),
    RangeError,
    /"maxEntries".*<= 1000000.*got 10000000/,
  ],
  [
    'maxEntries 2^31',
    () => dedupeGuard({ ttlMs: 1, maxEntries: 2 ** 31 }),
    RangeError,
    /"maxEntries".*got 2147483648/,
  ],
  ['maxEntries 1.5', () => dedupeGuard({ ttlMs: 1, maxEntries: 1.5 }), RangeError, /"maxEntries".*got 1.5/],
  ['maxBytes 0', () => dedupeGuard({ ttlMs: 1, maxBytes: 0 }), RangeError, /"maxBytes".*got 0/],
  ['maxBytes 2.5', () => dedupeGuard({ ttlMs: 1, maxBytes: 2.5 }), RangeError, /"maxBytes".*got 2.5/],
  ['key not a function', () => dedupeGuard({ ttlMs: 1, key: 'k' as never }), TypeError, /"key".*got "k"/],
  [
    'sizeOf not a function',
    () => dedupeGuard({ ttlMs: 1, sizeOf: 3 as never }),
    TypeError,
    /"sizeOf".*got 3/,
  ],
  ['clock without now', () => dedupeGuard({ ttlMs: 1, clock: {} as never }), TypeError, /"clock"/],
  ['empty service', () => dedupeGuard({ ttlMs: 1, service: '' }), TypeError, /"service".*got ""/],
]

describe('dedupe option validation', () => {
  itRejectsEach(rows)

  it('accepts ttlMs 0 (coalesce only) and fractional ttlMs', async () => {
    const guard = dedupeGuard({ ttlMs: 0 })
    let calls = 0
    await guard.execute(() => ++calls, { key: 'k' })
    await guard.execute(() => ++calls, { key: 'k' })
    expect(calls).toBe(2)
    expect(() => dedupeGuard({ ttlMs: 0.5 })).not.toThrow()
  })

  it('manual API methods refuse a key that is not a string', () => {
    const guard = dedupeGuard({ ttlMs: 1 })
    expect(() => guard.check(1 as never)).toThrow(TypeError)
    expect(() => guard.complete(undefined as never, 1)).toThrow(TypeError)
    expect(() => guard.abandon({} as never)).toThrow(TypeError)
  })
})
