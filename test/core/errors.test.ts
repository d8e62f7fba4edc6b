import { describe, expect, it } from 'vitest'
import {
  BackpressureShedError,
  isBackpressureShedError,
} from '../../src/core/errors/backpressure-shed-error.js'
import { BrokenCircuitError, isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { isResilienceError, ResilienceError } from '../../src/core/errors/resilience-error.js'
import { isTimeoutError, TimeoutError } from '../../src/core/errors/timeout-error.js'

describe('ResilienceError family', () => {
  it('carries a code, a name and the ES2022 cause', () => {
    const cause = new Error('root')
    const error = new ResilienceError('BREAKWATER_STAGE_FAILED', 'stage failed', { cause })
    expect(error).toMatchObject({ code: 'BREAKWATER_STAGE_FAILED', name: 'ResilienceError', cause })
    expect(new TimeoutError('idle', 5)).toMatchObject({
      name: 'TimeoutError',
      code: 'BREAKWATER_TIMEOUT',
      kind: 'idle',
    })
    expect(new BrokenCircuitError('svc', 10)).toMatchObject({
      service: 'svc',
      retryAfterMs: 10,
      name: 'BrokenCircuitError',
    })
    expect(new BackpressureShedError({ depth: 3, capacity: 3, reason: 'queue_full' })).toMatchObject({
      depth: 3,
      reason: 'queue_full',
    })
  })

  it('brand checks recognise errors from another copy of the package, and nothing else', () => {
    // What a second installed copy would throw: a different class, the same global brand.
    const foreign = Object.assign(new Error('from the other copy'), {
      code: 'BREAKWATER_TIMEOUT',
      kind: 'attempt',
    })
    Object.defineProperty(foreign, Symbol.for('breakwater.ResilienceError'), { value: true })
    expect(isResilienceError(foreign)).toBe(true)
    expect(isTimeoutError(foreign)).toBe(true)
    expect(isBrokenCircuitError(foreign)).toBe(false)
    const lookalike = Object.assign(new Error('x'), { code: 'BREAKWATER_TIMEOUT' })
    expect(isTimeoutError(lookalike)).toBe(false)
    expect(isResilienceError(null)).toBe(false)
    expect(
      isBackpressureShedError(new BackpressureShedError({ depth: 1, capacity: 1, reason: 'hard_limit' })),
    ).toBe(true)
  })
})
