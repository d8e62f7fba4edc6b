import { describe } from 'vitest'
import { type InvalidOptionRow, itRejectsEach } from '../helpers/invalid-options.js'
import { backoffDelay } from '../../src/retry/backoff.js'
import { retryBudget } from '../../src/retry/retry-budget.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { timeoutGuard } from '../../src/timeout/timeout-guard.js'

/** Every invalid option throws at construction, with the right type, naming the option and the value. */
const rows: InvalidOptionRow[] = [
  ['retry maxAttempts 0', () => retryGuard({ maxAttempts: 0 }), RangeError, /"maxAttempts".*got 0/],
  ['retry maxAttempts NaN', () => retryGuard({ maxAttempts: NaN }), RangeError, /"maxAttempts".*got NaN/],
  ['retry maxAttempts 1.5', () => retryGuard({ maxAttempts: 1.5 }), RangeError, /"maxAttempts".*got 1.5/],
  [
    'retry maxAttempts string',
    () => retryGuard({ maxAttempts: '3' as never }),
    TypeError,
    /"maxAttempts".*got "3"/,
  ],
  ['retry missing options', () => retryGuard(undefined as never), TypeError, /options must be an object/],
  [
    'retry negative baseDelayMs',
    () => retryGuard({ maxAttempts: 2, baseDelayMs: -1 }),
    RangeError,
    /"baseDelayMs".*got -1/,
  ],
  [
    'retry maxDelayMs above 60 s',
    () => retryGuard({ maxAttempts: 2, maxDelayMs: 60_001 }),
    RangeError,
    /"maxDelayMs".*got 60001/,
  ],
  [
    'retry negative maxDelayMs',
    () => retryGuard({ maxAttempts: 2, maxDelayMs: -5 }),
    RangeError,
    /"maxDelayMs".*got -5/,
  ],
  [
    'retry unknown jitter',
    () => retryGuard({ maxAttempts: 2, jitter: 'half' as never }),
    RangeError,
    /"jitter".*got "half"/,
  ],
  [
    'retry retryOn not a function',
    () => retryGuard({ maxAttempts: 2, retryOn: true as never }),
    TypeError,
    /"retryOn".*got true/,
  ],
  [
    'retry honorRetryAfter not boolean',
    () => retryGuard({ maxAttempts: 2, honorRetryAfter: 'yes' as never }),
    TypeError,
    /"honorRetryAfter"/,
  ],
  [
    'retry budget not from retryBudget()',
    () => retryGuard({ maxAttempts: 2, budget: {} as never }),
    TypeError,
    /"budget"/,
  ],
  [
    'retry clock without sleep',
    () => retryGuard({ maxAttempts: 2, clock: { now: () => 0 } as never }),
    TypeError,
    /"clock"/,
  ],
  ['budget negative ratio', () => retryBudget({ ratio: -0.1 }), RangeError, /"ratio".*got -0.1/],
  ['budget windowMs 0', () => retryBudget({ ratio: 0.1, windowMs: 0 }), RangeError, /"windowMs".*got 0/],
  [
    'budget negative minPerSecond',
    () => retryBudget({ ratio: 0.1, minPerSecond: -1 }),
    RangeError,
    /"minPerSecond".*got -1/,
  ],
  ['backoffDelay attempt 0', () => backoffDelay(0), RangeError, /"attempt".*got 0/],
  ['timeout attemptMs 0', () => timeoutGuard({ attemptMs: 0 }), RangeError, /"attemptMs".*got 0/],
  ['timeout attemptMs negative', () => timeoutGuard({ attemptMs: -10 }), RangeError, /"attemptMs".*got -10/],
  [
    'timeout totalMs Infinity',
    () => timeoutGuard({ totalMs: Infinity }),
    RangeError,
    /"totalMs".*got Infinity/,
  ],
  ['timeout idleMs NaN', () => timeoutGuard({ idleMs: NaN }), RangeError, /"idleMs".*got NaN/],
  ['timeout idleMs string', () => timeoutGuard({ idleMs: '5' as never }), TypeError, /"idleMs".*got "5"/],
  [
    'timeout attemptMs beyond a Node timer',
    () => timeoutGuard({ attemptMs: 2 ** 31 }),
    RangeError,
    /"attemptMs".*2147483648/,
  ],
  ['budget clock without now', () => retryBudget({ ratio: 0.1, clock: {} as never }), TypeError, /"clock"/],
]

describe('invalid options throw at construction, naming the option and the value', () => {
  itRejectsEach(rows)
})
