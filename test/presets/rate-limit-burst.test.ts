/**
 * D6 / R7 end to end through the default preset: a burst of concurrent calls that each meet one 429
 * with a Retry-After, from a provider that then answers, all succeed; a real outage still fails fast.
 */
import { describe, expect, it } from 'vitest'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { seededRandom } from '../../src/testing/seeded-random.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { httpError } from '../helpers/deferred.js'

/**
 * A provider that answers each caller's first request with a 429 after `i` ms (so the 429s, and the
 * cooldowns they start, arrive spread over time, as they do from a real provider) and every later
 * request after 5 ms.
 */
function limitedOnce(clock: TestClock, headers: Record<string, string>) {
  let requests = 0
  const caller = (i: number) => {
    let mine = 0
    return async () => {
      requests++
      if (++mine === 1) {
        await clock.sleep(i % 20)
        throw httpError(429, headers)
      }
      await clock.sleep(5)
      return `answer ${i}`
    }
  }
  return { caller, requests: () => requests }
}

async function burst(n: number, headers: Record<string, string>) {
  const clock = testClock()
  const guard = llmGuard({
    clock,
    backpressure: { hardLimit: 2 * n, maxQueue: 0 },
    retry: { random: seededRandom(n) },
  })
  const provider = limitedOnce(clock, headers)
  const settled = Array.from({ length: n }, (_, i) =>
    guard.execute(provider.caller(i), { service: 'openai:gpt-4o-mini' }).then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  )
  await clock.advance(5_000)
  return { results: await Promise.all(settled), requests: provider.requests(), guard, clock }
}

describe('D6 a burst of 429s with a Retry-After ends in success', () => {
  it.each([
    ['retry-after-ms: 100', 10, { 'retry-after-ms': '100' }],
    ['retry-after: 1', 10, { 'retry-after': '1' }],
    ['retry-after-ms: 100', 1_000, { 'retry-after-ms': '100' }],
  ])(
    'D6 R7 %s, %i concurrent llmGuard calls: every caller succeeds, no BrokenCircuitError',
    async (_, n, headers) => {
      const { results, requests, guard } = await burst(n, headers)
      const failures = results.filter((r) => !r.ok)
      expect(failures.map((f) => String(f.error)).slice(0, 3)).toEqual([])
      expect(results.every((r) => r.ok && r.value.startsWith('answer'))).toBe(true)
      // One 429 and one answer per caller: nothing was wasted on a half-open gate.
      expect(requests).toBe(2 * n)
      expect(await guard.circuit!.state('openai:gpt-4o-mini')).toBe('closed')
      expect(guard.backpressure!.depth).toBe(0)
    },
  )

  it('D6 a real outage still fails fast: no call waits for the recovery time', async () => {
    const clock = testClock()
    const guard = llmGuard({ clock, retry: { random: seededRandom(1) } })
    let requests = 0
    const down = async () => {
      requests++
      await clock.sleep(10)
      throw httpError(503)
    }
    const settledAt: number[] = []
    const calls = Array.from({ length: 20 }, () =>
      guard.execute(down).catch((error: unknown) => {
        settledAt.push(clock.now())
        return error
      }),
    )
    await clock.advance(5_000)
    const errors = await Promise.all(calls)
    expect(settledAt).toHaveLength(20)
    // Recovery is 30 s: every caller was answered within the retry backoff, long before it.
    expect(Math.max(...settledAt)).toBeLessThan(5_000)
    expect(errors.some((e) => isBrokenCircuitError(e) && e.reason === 'open')).toBe(true)
    expect(errors.every((e) => !(isBrokenCircuitError(e) && e.reason === 'cooldown'))).toBe(true)
    expect(await guard.circuit!.state()).toBe('open')
    // The first wave (20 calls in flight when it opened), then nothing reaches the dead provider.
    expect(requests).toBe(20)
  })
})
