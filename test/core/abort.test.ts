import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { compose } from '../../src/core/compose.js'
import type { Guard } from '../../src/core/guard.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush } from '../helpers/deferred.js'

describe('a caller abort rejects at once, wherever the call is', () => {
  const guards: [string, () => Guard][] = [
    ['circuit', () => circuitGuard({ threshold: 3, recoveryMs: 1_000, clock: testClock() })],
    ['backpressure', () => backpressureGuard({ hardLimit: 1 })],
    ['retry', () => retryGuard({ maxAttempts: 3 })],
    ['llmGuard without timeouts', () => llmGuard({ timeout: false, clock: testClock() })],
  ]

  it.each(guards)(
    '%s: an fn that ignores its signal does not keep the caller waiting',
    async (_name, make) => {
      const guard = make()
      const controller = new AbortController()
      const work = deferred<string>()
      const call = guard.execute(() => work.promise, { signal: controller.signal })
      await flush()
      const reason = new Error('caller left')
      controller.abort(reason)
      await expect(call).rejects.toBe(reason)
      work.resolve('too late')
    },
  )

  it('B3 the slot stays taken until the abandoned work really ends', async () => {
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const controller = new AbortController()
    const work = deferred<string>()
    const call = backpressure.execute(() => work.promise, { signal: controller.signal })
    controller.abort(new Error('caller left'))
    await call.catch(() => {})
    expect(backpressure.depth).toBe(1)
    work.resolve('done')
    await flush()
    expect(backpressure.depth).toBe(0)
  })
})

describe('fn results', () => {
  it('a thenable from fn is adopted: its value is awaited, not its then() return', async () => {
    const backpressure = backpressureGuard({ hardLimit: 1 })
    const gate = deferred<void>()
    const thenable = {
      then(resolve: (v: number) => void) {
        void gate.promise.then(() => resolve(42))
      },
    }
    const call = compose(retryGuard({ maxAttempts: 2 }), backpressure).execute(
      () => thenable as unknown as Promise<number>,
    )
    await flush()
    expect(backpressure.depth).toBe(1)
    gate.resolve()
    expect(await call).toBe(42)
    expect(backpressure.depth).toBe(0)
  })
})
