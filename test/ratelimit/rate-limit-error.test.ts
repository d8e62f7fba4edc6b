import { describe, expect, it } from 'vitest'
import { classifyError } from '../../src/classify/classify-error.js'
import { isRateLimitError, RateLimitError } from '../../src/core/errors/rate-limit-error.js'
import { isResilienceError } from '../../src/core/errors/resilience-error.js'

describe('RateLimitError', () => {
  it('L1 RateLimitError carries service, retryAfterMs and limit, and is recognised across package copies', () => {
    const error = new RateLimitError({ service: 'openai:gpt-4o', retryAfterMs: 1234.2, limit: 'tokens' })
    expect(error).toMatchObject({
      name: 'RateLimitError',
      code: 'BREAKWATER_RATE_LIMITED',
      service: 'openai:gpt-4o',
      retryAfterMs: 1234.2,
      limit: 'tokens',
    })
    expect(error.message).toContain('1235 ms')
    expect(isRateLimitError(error)).toBe(true)
    expect(isResilienceError(error)).toBe(true)
    // What a second installed copy would throw: another class with the same global brand.
    const foreign = Object.assign(new Error('other copy'), { code: 'BREAKWATER_RATE_LIMITED' })
    Object.defineProperty(foreign, Symbol.for('breakwater.ResilienceError'), { value: true })
    expect(isRateLimitError(foreign)).toBe(true)
    expect(isRateLimitError(Object.assign(new Error('x'), { code: 'BREAKWATER_RATE_LIMITED' }))).toBe(false)
    expect(new RateLimitError({ service: 's', retryAfterMs: Infinity, limit: 'tokens' }).message).toContain(
      'exceeds the budget',
    )
  })

  it('K2 our own RateLimitError is ignored by breakers and never retried', () => {
    const error = new RateLimitError({ service: 's', retryAfterMs: 500, limit: 'requests' })
    expect(classifyError(error)).toEqual({ retryable: false, health: 'ignore', reason: 'over_budget' })
  })
})
