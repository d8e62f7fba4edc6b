import { handleAll, retry, timeout, TimeoutStrategy, wrap, ConstantBackoff } from 'cockatiel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { compose } from '../../src/core/compose.js'
import { fromPolicy, toPolicy } from '../../src/core/cockatiel.js'
import { retryGuard } from '../../src/retry/retry-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { httpError } from '../helpers/deferred.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('cockatiel adapters', () => {
  it('a breakwater guard works inside cockatiel wrap() through toPolicy, seeing the given defaults', async () => {
    const clock = testClock()
    const guard = retryGuard({ maxAttempts: 3, baseDelayMs: 0, clock })
    const services: string[] = []
    guard.onRetry((e) => services.push(e.service))
    const outer = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) })
    const policy = wrap(outer, toPolicy(guard, { service: 'openai:gpt' }))
    let calls = 0
    const successes: number[] = []
    policy.onSuccess(() => successes.push(1))
    const result = await policy.execute(({ signal }) => {
      expect(signal).toBeInstanceOf(AbortSignal)
      return ++calls < 3 ? Promise.reject(httpError(503)) : 'ok'
    })
    expect(result).toBe('ok')
    expect(calls).toBe(3)
    expect(services).toEqual(['openai:gpt', 'openai:gpt'])
    expect(successes).toHaveLength(1)
  })

  it('toPolicy passes the cockatiel signal to the guard', async () => {
    const controller = new AbortController()
    const policy = toPolicy(retryGuard({ maxAttempts: 1 }))
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(policy.execute(() => 'never', controller.signal)).rejects.toBe(reason)
  })

  it("cockatiel's timeout works inside compose() through fromPolicy, aborting ctx.signal", async () => {
    vi.useFakeTimers()
    const guard = compose(
      retryGuard({ maxAttempts: 1 }),
      fromPolicy(timeout(50, TimeoutStrategy.Cooperative)),
    )
    let signal: AbortSignal | undefined
    const call = guard.execute(
      (ctx) =>
        new Promise((_, reject) => {
          signal = ctx.signal
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted by cockatiel')))
        }),
    )
    const settled = call.catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(50)
    const error = await settled
    expect(signal?.aborted).toBe(true)
    expect((error as Error).message).toBe('aborted by cockatiel')
  })

  it('rejects things that are not guards or policies', () => {
    expect(() => toPolicy({} as never)).toThrow(TypeError)
    expect(() => fromPolicy({} as never)).toThrow(TypeError)
  })
})
