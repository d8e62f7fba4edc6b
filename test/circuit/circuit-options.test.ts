import { describe, expect, it } from 'vitest'
import { type InvalidOptionRow, itRejectsEach } from '../helpers/invalid-options.js'
import { InMemoryCircuitBackend } from '../../src/circuit/backends/memory-backend.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CircuitOptions } from '../../src/circuit/circuit-options.js'

const base: CircuitOptions = { threshold: 3, recoveryMs: 1_000 }
const guard = (o: Partial<Record<keyof CircuitOptions, unknown>>) => () =>
  circuitGuard({ ...base, ...o } as CircuitOptions)
const rate = (o: object) => guard({ failureRate: { ratio: 0.5, minCalls: 10, windowMs: 1_000, ...o } })

/** Every invalid option throws at construction, with the right type, naming the option and the value. */
const rows: InvalidOptionRow[] = [
  [
    'missing options',
    () => circuitGuard(undefined as never),
    TypeError,
    /circuitGuard: options must be an object/,
  ],
  ['threshold missing', guard({ threshold: undefined }), TypeError, /"threshold".*got undefined/],
  ['threshold 0', guard({ threshold: 0 }), RangeError, /"threshold".*integer >= 1, got 0/],
  ['threshold 2.5', guard({ threshold: 2.5 }), RangeError, /"threshold".*got 2.5/],
  ['threshold string', guard({ threshold: '3' }), TypeError, /"threshold".*got "3"/],
  ['recoveryMs 0', guard({ recoveryMs: 0 }), RangeError, /"recoveryMs".*> 0, got 0/],
  ['recoveryMs NaN', guard({ recoveryMs: NaN }), RangeError, /"recoveryMs".*got NaN/],
  ['recoveryMs Infinity', guard({ recoveryMs: Infinity }), RangeError, /"recoveryMs".*got Infinity/],
  [
    'maxRecoveryMs < recoveryMs',
    guard({ maxRecoveryMs: 999 }),
    RangeError,
    /"maxRecoveryMs".*>= recoveryMs \(1000\), got 999/,
  ],
  ['maxRecoveryMs string', guard({ maxRecoveryMs: '5s' }), TypeError, /"maxRecoveryMs".*got "5s"/],
  ['halfOpenSuccesses 0', guard({ halfOpenSuccesses: 0 }), RangeError, /"halfOpenSuccesses".*got 0/],
  ['halfOpenSuccesses 1.5', guard({ halfOpenSuccesses: 1.5 }), RangeError, /"halfOpenSuccesses".*got 1.5/],
  ['probeLeaseMs -1', guard({ probeLeaseMs: -1 }), RangeError, /"probeLeaseMs".*got -1/],
  ['failureRate not an object', guard({ failureRate: 0.5 }), TypeError, /"failureRate".*got 0.5/],
  ['failureRate.ratio 0', rate({ ratio: 0 }), RangeError, /"failureRate.ratio".*> 0 <= 1, got 0/],
  ['failureRate.ratio 1.2', rate({ ratio: 1.2 }), RangeError, /"failureRate.ratio".*got 1.2/],
  ['failureRate.minCalls 0', rate({ minCalls: 0 }), RangeError, /"failureRate.minCalls".*got 0/],
  ['failureRate.minCalls 2.5', rate({ minCalls: 2.5 }), RangeError, /"failureRate.minCalls".*got 2.5/],
  ['failureRate.windowMs 0', rate({ windowMs: 0 }), RangeError, /"failureRate.windowMs".*got 0/],
  [
    'failureRate.windowMs missing',
    rate({ windowMs: undefined }),
    TypeError,
    /"failureRate.windowMs".*got undefined/,
  ],
  ['service empty', guard({ service: '' }), TypeError, /"service".*got ""/],
  ['classify not a function', guard({ classify: 'failure' }), TypeError, /"classify".*got "failure"/],
  ['honorRetryAfter not boolean', guard({ honorRetryAfter: 1 }), TypeError, /"honorRetryAfter".*got 1/],
  ['clock without sleep', guard({ clock: { now: () => 0 } }), TypeError, /"clock".*Clock/],
  ['random not a function', guard({ random: 0.5 }), TypeError, /"random".*got 0.5/],
  ['backend not an object', guard({ backend: 'redis' }), TypeError, /"backend".*CircuitBackend, got redis/],
  [
    'backend without snapshot',
    guard({ backend: { ...new InMemoryCircuitBackend(), snapshot: undefined, admit() {} } }),
    TypeError,
    /"backend".*without (record|release|renew|cooldown|isolate|reset|snapshot)\(\)/,
  ],
  [
    'memory backend maxServices 0',
    () => new InMemoryCircuitBackend({ maxServices: 0 }),
    RangeError,
    /InMemoryCircuitBackend: option "maxServices".*got 0/,
  ],
  [
    'memory backend maxServices 1.5',
    () => new InMemoryCircuitBackend({ maxServices: 1.5 }),
    RangeError,
    /"maxServices".*got 1.5/,
  ],
  [
    'memory backend options string',
    () => new InMemoryCircuitBackend('x' as never),
    TypeError,
    /options must be an object/,
  ],
  [
    'memory backend bad clock',
    () => new InMemoryCircuitBackend({ clock: {} as never }),
    TypeError,
    /"clock"/,
  ],
]

describe('circuit options', () => {
  itRejectsEach(rows)

  it('defaults: halfOpenSuccesses 1, probe lease 60 s, maxRecoveryMs 10 × recoveryMs capped at 5 min', () => {
    expect(circuitGuard(base).config).toEqual({
      threshold: 3,
      recoveryMs: 1_000,
      maxRecoveryMs: 10_000,
      halfOpenSuccesses: 1,
      probeLeaseMs: 60_000,
    })
    expect(circuitGuard({ threshold: 1, recoveryMs: 60_000 }).config.maxRecoveryMs).toBe(300_000)
    expect(circuitGuard({ threshold: 1, recoveryMs: 600_000 }).config.maxRecoveryMs).toBe(600_000)
    expect(circuitGuard(base).honorRetryAfter).toBe(true)
  })
})
