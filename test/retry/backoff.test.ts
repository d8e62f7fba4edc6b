import { describe, expect, it } from 'vitest'
import { applyJitter, backoffDelay, MAX_RETRY_DELAY_MS } from '../../src/retry/backoff.js'

describe('R1 capped exponential backoff', () => {
  it('R1 delay before retry n is base * 2^(n-1), defaults 500 ms and 60 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n))).toEqual([500, 1000, 2000, 4000])
    expect(backoffDelay(3, { baseDelayMs: 100 })).toBe(400)
    expect(MAX_RETRY_DELAY_MS).toBe(60_000)
  })

  it('R1 the delay is capped at maxDelayMs, and late attempts never overflow', () => {
    expect(backoffDelay(8, { baseDelayMs: 500 })).toBe(60_000)
    expect(backoffDelay(5, { baseDelayMs: 500, maxDelayMs: 3_000 })).toBe(3_000)
    expect(backoffDelay(5_000)).toBe(60_000)
  })

  it('R1 maxDelayMs may not exceed 60 000', () => {
    expect(() => backoffDelay(1, { maxDelayMs: 60_001 })).toThrow(/maxDelayMs.*60001/)
  })

  it('R1 jitter never exceeds the delay it spreads', () => {
    for (const jitter of ['full', 'equal', 'none'] as const) {
      for (const r of [0, 0.5, 0.999999, 1, 7]) {
        expect(applyJitter(60_000, jitter, () => r)).toBeLessThanOrEqual(60_000)
      }
    }
    expect(applyJitter(1000, 'full', () => 0.25)).toBe(250)
    expect(applyJitter(1000, 'equal', () => 0)).toBe(500)
    expect(applyJitter(1000, 'none', () => 0)).toBe(1000)
  })
})
