import { describe, expect, it } from 'vitest'
import { InMemoryRateLimitStore } from '../../src/ratelimit/memory-store.js'
import { rateLimitGuard } from '../../src/ratelimit/rate-limit-guard.js'
import { type InvalidOptionRow, itRejectsEach } from '../helpers/invalid-options.js'

const rl = rateLimitGuard

/** L5: every invalid option throws at construction, with the right type, naming the option and the value. */
const rows: InvalidOptionRow[] = [
  ['missing options', () => rl(undefined as never), TypeError, /rateLimitGuard: options must be an object/],
  ['requests 0', () => rl({ requests: 0 }), RangeError, /"requests".*> 0.*got 0/],
  ['requests -5', () => rl({ requests: -5 }), RangeError, /"requests".*got -5/],
  ['requests NaN', () => rl({ requests: NaN }), RangeError, /"requests".*got NaN/],
  ['requests Infinity', () => rl({ requests: Infinity }), RangeError, /"requests".*got Infinity/],
  ['requests string', () => rl({ requests: '60' as never }), TypeError, /"requests".*got "60"/],
  ['tokens 0', () => rl({ tokens: 0 }), RangeError, /"tokens".*got 0/],
  ['tokens object', () => rl({ tokens: {} as never }), TypeError, /"tokens".*got \[object Object\]/],
  ['windowMs 0', () => rl({ requests: 1, windowMs: 0 }), RangeError, /"windowMs".*got 0/],
  [
    'windowMs beyond a timer',
    () => rl({ requests: 1, windowMs: 2 ** 31 }),
    RangeError,
    /"windowMs".*got 2147483648/,
  ],
  ['maxWaitMs -1', () => rl({ requests: 1, maxWaitMs: -1 }), RangeError, /"maxWaitMs".*>= 0.*got -1/],
  ['maxWaitMs NaN', () => rl({ requests: 1, maxWaitMs: NaN }), RangeError, /"maxWaitMs".*got NaN/],
  [
    'learnFromHeaders "yes"',
    () => rl({ requests: 1, learnFromHeaders: 'yes' as never }),
    TypeError,
    /"learnFromHeaders".*got "yes"/,
  ],
  [
    'no budget at all',
    () => rl({ learnFromHeaders: false }),
    RangeError,
    /"learnFromHeaders" must be true when neither "requests" nor "tokens" is set.*got false/,
  ],
  ['service empty', () => rl({ requests: 1, service: '' }), TypeError, /"service".*got ""/],
  [
    'store without learn',
    () => rl({ requests: 1, store: { take() {}, peek() {} } as never }),
    TypeError,
    /"store".*without learn\(\)/,
  ],
  ['store 42', () => rl({ requests: 1, store: 42 as never }), TypeError, /"store".*got 42/],
  ['clock without sleep', () => rl({ requests: 1, clock: { now: () => 0 } as never }), TypeError, /"clock"/],
  [
    'store maxServices 0',
    () => new InMemoryRateLimitStore({ maxServices: 0 }),
    RangeError,
    /InMemoryRateLimitStore: option "maxServices".*got 0/,
  ],
]

describe('L5 invalid options', () => {
  itRejectsEach(rows)

  it('L5 observe() rejects what it cannot read, naming it', () => {
    const guard = rl({ requests: 10 })
    expect(() => guard.observe('', {})).toThrow(TypeError)
    expect(() => guard.observe('svc', null as never)).toThrow(/observation must be an object/)
    expect(() => guard.observe('svc', { status: 4290 })).toThrow(/"status" must be an HTTP status, got 4290/)
    expect(() => guard.observe('svc', { reserved: -1 })).toThrow(/"reserved".*got -1/)
    expect(() => guard.observe('svc', { usage: { inputTokens: NaN } })).toThrow(
      /"usage.inputTokens".*got NaN/,
    )
    expect(() => guard.observe('svc', { usage: 5 as never })).toThrow(/"usage" must be an object/)
  })

  it('L5 a bad call option fails the call, not the guard', async () => {
    const guard = rl({ tokens: 10 })
    await expect(guard.execute(() => 1, { cost: -1 })).rejects.toThrow(/"cost".*got -1/)
    expect(await guard.execute(() => 'fine', { cost: 1 })).toBe('fine')
  })
})
