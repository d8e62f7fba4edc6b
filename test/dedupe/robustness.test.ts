import { describe, expect, it } from 'vitest'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { testClock } from '../../src/testing/test-clock.js'

describe('dedupe robustness', () => {
  it('U1 a shared value with a throwing getter still reaches every waiter (getters are never run)', async () => {
    const guard = dedupeGuard({ ttlMs: 1_000, clock: testClock() })
    const value = {
      text: 'ok',
      get usage(): number {
        throw new Error('lazy field not loaded')
      },
    }
    const [a, b] = await Promise.all([
      guard.execute(() => Promise.resolve(value), { key: 'k' }),
      guard.execute(() => Promise.resolve(value), { key: 'k' }),
    ])
    expect(a).toBe(value)
    expect(b).toBe(value)
    expect(Object.isFrozen(a)).toBe(true)
  })

  it('U2 a call through execute() does not drop a check() claim it never owned', async () => {
    const guard = dedupeGuard({ ttlMs: 0, clock: testClock() })
    expect(guard.check('report').status).toBe('new')
    await guard.execute(() => 'ran anyway', { key: 'report' })
    expect(guard.check('report').status).toBe('in-progress')
    guard.complete('report', 'done')
    expect(guard.check('report').status).toBe('new')
  })
})
