import { describe, expect, it } from 'vitest'
import { type InvalidOptionRow, itRejectsEach } from '../helpers/invalid-options.js'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'

const bp = backpressureGuard

/** Every invalid option throws at construction, with the right type, naming the option and the value. */
const rows: InvalidOptionRow[] = [
  [
    'missing options',
    () => bp(undefined as never),
    TypeError,
    /backpressureGuard: options must be an object/,
  ],
  ['hardLimit missing', () => bp({} as never), TypeError, /"hardLimit".*got undefined/],
  ['hardLimit 0', () => bp({ hardLimit: 0 }), RangeError, /"hardLimit".*got 0/],
  ['hardLimit 1.5', () => bp({ hardLimit: 1.5 }), RangeError, /"hardLimit".*got 1.5/],
  ['hardLimit NaN', () => bp({ hardLimit: NaN }), RangeError, /"hardLimit".*got NaN/],
  ['hardLimit Infinity', () => bp({ hardLimit: Infinity }), RangeError, /"hardLimit".*got Infinity/],
  ['hardLimit string', () => bp({ hardLimit: '4' as never }), TypeError, /"hardLimit".*got "4"/],
  ['softLimit 0', () => bp({ hardLimit: 4, softLimit: 0 }), RangeError, /"softLimit".*got 0/],
  ['softLimit 2.5', () => bp({ hardLimit: 4, softLimit: 2.5 }), RangeError, /"softLimit".*got 2.5/],
  [
    'softLimit = hardLimit',
    () => bp({ hardLimit: 4, softLimit: 4 }),
    RangeError,
    /"softLimit".*< hardLimit \(4\).*got 4/,
  ],
  ['softLimit > hardLimit', () => bp({ hardLimit: 4, softLimit: 9 }), RangeError, /"softLimit".*got 9/],
  ['costLimit 0', () => bp({ hardLimit: 4, costLimit: 0 }), RangeError, /"costLimit".*got 0/],
  ['costLimit -1', () => bp({ hardLimit: 4, costLimit: -1 }), RangeError, /"costLimit".*got -1/],
  ['maxQueue -1', () => bp({ hardLimit: 4, maxQueue: -1 }), RangeError, /"maxQueue".*got -1/],
  ['maxQueue 0.5', () => bp({ hardLimit: 4, maxQueue: 0.5 }), RangeError, /"maxQueue".*got 0.5/],
  [
    'queueTimeoutMs 0',
    () => bp({ hardLimit: 4, maxQueue: 2, queueTimeoutMs: 0 }),
    RangeError,
    /"queueTimeoutMs".*got 0/,
  ],
  [
    'unknown softAction',
    () => bp({ hardLimit: 4, softLimit: 2, softAction: 'drop' as never }),
    RangeError,
    /"softAction".*got "drop"/,
  ],
  ['clock without sleep', () => bp({ hardLimit: 4, clock: { now: () => 0 } as never }), TypeError, /"clock"/],
  ['empty service', () => bp({ hardLimit: 4, service: '' }), TypeError, /"service".*got ""/],
]

describe('backpressure option validation', () => {
  itRejectsEach(rows)

  it('accepts combinations a preset may produce: a queue timeout without a queue, shed-background without a soft limit', async () => {
    const guard = bp({ hardLimit: 1, queueTimeoutMs: 100, softAction: 'shed-background' })
    expect(await guard.execute(() => 'admitted', { priority: 'background' })).toBe('admitted')
  })

  it('keeps the validated options and their defaults', () => {
    const guard = bp({ hardLimit: 4, softLimit: 2, costLimit: 0.5 })
    expect(guard).toMatchObject({
      hardLimit: 4,
      softLimit: 2,
      costLimit: 0.5,
      maxQueue: 0,
      queueTimeoutMs: undefined,
      softAction: 'warn',
      name: 'backpressure',
    })
  })
})
