import { describe, expect, it } from 'vitest'
import type { CallContext, Priority } from '../../src/core/call-options.js'
import { llmGuard } from '../../src/presets/llm-guard.js'
import { seededRandom } from '../../src/testing/seeded-random.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { flush, httpError } from '../helpers/deferred.js'

const CALLS = 5_000
const BURST = 100
const KEYS = 300
const MAX_ENTRIES = 50
const SERVICES = ['openai:gpt-4o', 'anthropic:claude', 'openai:gpt-4o-mini']

/** Rejects when the signal aborts; never resolves otherwise (a hung provider). */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/** One attempt of a flaky provider: fast or slow answers, 429/500/503/400, hangs and streams. */
function flakyProvider(clock: TestClock, random: () => number) {
  let upstream = 0
  const fn = async (ctx: CallContext): Promise<unknown> => {
    upstream++
    const signal = ctx.signal
    const r = random()
    if (r < 0.45) return { text: 'fast' }
    if (r < 0.65) {
      await clock.sleep(Math.floor(random() * 400), signal)
      return { text: 'slow' }
    }
    if (r < 0.71) throw httpError(429, { 'retry-after-ms': String(Math.floor(random() * 300)) })
    if (r < 0.76) throw httpError(500)
    if (r < 0.8) throw httpError(503, { 'retry-after': '1' })
    if (r < 0.84) throw httpError(400)
    if (r < 0.9) return hang(signal)
    // A stream: the call stays in flight until its body ends; some stall past the idle timeout.
    ctx.hold(clock.sleep(Math.floor(random() * 900), signal))
    return { text: 'stream' }
  }
  return { fn, upstream: () => upstream }
}

describe('soak: llmGuard under random faults', () => {
  it('soak B3 U2 U4 T1 thousands of calls with random faults all settle, slots return to zero, dedupe stays bounded', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    try {
      for (const seed of [1, 2, 3]) {
        const random = seededRandom(seed)
        const clock = testClock()
        const guard = llmGuard({
          clock,
          dedupe: { ttlMs: 200, maxEntries: MAX_ENTRIES },
          retry: { maxAttempts: 3, baseDelayMs: 50, random },
          timeout: { attemptMs: 1_000, totalMs: 4_000, idleMs: 500 },
          circuit: { threshold: 20, recoveryMs: 200, maxRecoveryMs: 1_000, random },
        })
        const provider = flakyProvider(clock, random)
        let settled = 0
        const outcomes = new Map<string, number>()
        const all: Promise<void>[] = []
        const aborts: AbortController[] = []
        for (let i = 0; i < CALLS; i++) {
          const abortable = random() < 0.15
          const controller = abortable ? new AbortController() : undefined
          if (controller) aborts.push(controller)
          const priority: Priority = random() < 0.3 ? 'background' : 'foreground'
          const key = random() < 0.5 ? `request-${Math.floor(random() * KEYS)}` : undefined
          all.push(
            guard
              .execute(provider.fn, {
                service: SERVICES[i % SERVICES.length],
                priority,
                key,
                signal: controller?.signal,
              })
              .then(
                () => 'ok',
                (error: unknown) =>
                  (error as { code?: string; status?: number }).code ??
                  `status ${(error as { status?: number }).status}`,
              )
              .then((outcome) => {
                outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
                settled++
              }),
          )
          if ((i + 1) % BURST === 0) {
            // Some callers give up while their calls queue, sleep between retries, or hang.
            for (const c of aborts.splice(0, Math.floor(aborts.length * random())))
              c.abort(new Error('caller gave up'))
            await clock.advance(Math.floor(random() * 400))
            expect(guard.backpressure!.depth).toBeLessThanOrEqual(guard.backpressure!.hardLimit)
            expect(guard.backpressure!.queued).toBeLessThanOrEqual(guard.backpressure!.maxQueue)
            // Kept results are bounded by maxEntries; calls in flight by the keys in use.
            expect(guard.dedupe!.size).toBeLessThanOrEqual(MAX_ENTRIES + KEYS)
          }
        }
        for (const c of aborts) if (random() < 0.5) c.abort(new Error('caller gave up'))
        // Every hang ends by an attempt or total timeout, every stream by its end or the idle timeout.
        // A caller that aborted is rejected at once; its slot frees when the abandoned work ends.
        for (let step = 0; step < 100 && (settled < CALLS || guard.backpressure!.depth > 0); step++) {
          await clock.advance(250)
        }
        await flush()
        expect(settled, `settled calls (seed ${seed})`).toBe(CALLS)
        await Promise.all(all)
        expect(guard.backpressure!.depth).toBe(0)
        expect(guard.backpressure!.queued).toBe(0)
        expect(guard.backpressure!.inflightCost).toBe(0)
        expect(guard.dedupe!.size).toBeLessThanOrEqual(MAX_ENTRIES)
        await clock.advance(1_000) // past the TTL: nothing kept
        expect(guard.dedupe!.size).toBe(0)
        expect(clock.pending, 'timers left on the clock').toBe(0)
        // The run really exercised the paths it claims to.
        expect(provider.upstream()).toBeGreaterThan(CALLS / 5)
        expect(outcomes.get('ok')).toBeGreaterThan(0)
        expect(outcomes.size).toBeGreaterThan(3)
      }
      await flush()
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
