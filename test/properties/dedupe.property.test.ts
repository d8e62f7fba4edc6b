import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { CallContext } from '../../src/core/call-options.js'
import { compose } from '../../src/core/compose.js'
import type { Guard } from '../../src/core/guard.js'
import { dedupeGuard } from '../../src/dedupe/dedupe-guard.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, type Deferred } from '../helpers/deferred.js'

const KEYS = ['alpha', 'beta'] as const

/** Random programs of joins, caller aborts, and upstream successes and failures, in any order. */
type Action =
  | { kind: 'join'; key: number; abortable: boolean }
  | { kind: 'abort'; pick: number }
  | { kind: 'succeed' | 'fail'; pick: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('join' as const),
      key: fc.integer({ min: 0, max: KEYS.length - 1 }),
      abortable: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constantFrom('succeed' as const, 'fail' as const), pick: fc.nat() }),
  },
)

/** One upstream call: alive from the moment fn starts until it settles or its signal aborts. */
interface Upstream {
  readonly key: string
  readonly id: number
  readonly done: Deferred<{ key: string; id: number }>
  alive: boolean
}

interface Waiter {
  readonly key: string
  readonly abort: AbortController | undefined
  abortReason: unknown
  outcome: { value: unknown } | { error: unknown } | undefined
}

describe('dedupe under random join and abort orders', () => {
  it('U1 U4 never two upstream calls alive for one key, every waiter settles with its flight or its own abort', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (actions, withBackpressure) => {
          const clock = testClock()
          const dedupe = dedupeGuard({ ttlMs: 0, clock })
          // With a one-slot backpressure guard inside, leaders are shed (a local rejection) and
          // their waiters elect new leaders: more interleavings for the same invariant.
          const guard: Guard = withBackpressure
            ? compose(dedupe, backpressureGuard({ hardLimit: 1, clock }))
            : dedupe
          const alive = new Map<string, number>()
          const upstreams: Upstream[] = []
          const waiters: Waiter[] = []
          const settled: Promise<void>[] = []
          const violations: string[] = []

          const fn = (ctx: CallContext): Promise<{ key: string; id: number }> => {
            const key = ctx.key!
            const count = (alive.get(key) ?? 0) + 1
            // Recorded, not thrown: a throw here would only fail this upstream call.
            if (count > 1) violations.push(`${count} upstream calls alive for key ${key}`)
            alive.set(key, count)
            const u: Upstream = { key, id: upstreams.length, done: deferred(), alive: true }
            upstreams.push(u)
            const stop = (): void => {
              if (!u.alive) return
              u.alive = false
              alive.set(key, alive.get(key)! - 1)
            }
            // A cooperative upstream: it stops as soon as its signal aborts.
            ctx.signal.addEventListener(
              'abort',
              () => {
                stop()
                u.done.reject(ctx.signal.reason)
              },
              { once: true },
            )
            u.done.promise.then(stop, stop)
            return u.done.promise
          }

          for (const a of actions) {
            if (a.kind === 'join') {
              const key = KEYS[a.key]!
              const w: Waiter = {
                key,
                abort: a.abortable ? new AbortController() : undefined,
                abortReason: undefined,
                outcome: undefined,
              }
              waiters.push(w)
              settled.push(
                guard.execute(fn, { key, signal: w.abort?.signal }).then(
                  (value) => {
                    w.outcome = { value }
                  },
                  (error: unknown) => {
                    w.outcome = { error }
                  },
                ),
              )
            } else if (a.kind === 'abort') {
              const open = waiters.filter((w) => w.abort !== undefined && w.outcome === undefined)
              const w = open[a.pick % Math.max(1, open.length)]
              if (w !== undefined) {
                w.abortReason = new Error(`caller ${waiters.indexOf(w)} left`)
                w.abort!.abort(w.abortReason)
              }
            } else {
              const live = upstreams.filter((u) => u.alive)
              const u = live[a.pick % Math.max(1, live.length)]
              if (u !== undefined) {
                if (a.kind === 'succeed') u.done.resolve({ key: u.key, id: u.id })
                else u.done.reject(new Error(`upstream ${u.id} failed`))
              }
            }
            await flush()
          }

          // Drain: every upstream still running succeeds.
          for (
            let live = upstreams.filter((u) => u.alive);
            live.length > 0;
            live = upstreams.filter((u) => u.alive)
          ) {
            for (const u of live) u.done.resolve({ key: u.key, id: u.id })
            await flush()
          }
          await Promise.all(settled)

          for (const w of waiters) {
            expect(w.outcome, 'every waiter settles').toBeDefined()
            if (w.abortReason !== undefined && 'error' in w.outcome! && w.outcome.error === w.abortReason)
              continue
            if ('value' in w.outcome!) {
              const value = w.outcome.value as { key: string; id: number }
              expect(value.key, 'a waiter gets the result of its own key').toBe(w.key)
              expect(w.abortReason, 'a waiter that left gets no result').toBeUndefined()
              expect(Object.isFrozen(value)).toBe(true)
            } else {
              // A failure is the upstream's own error or, with backpressure, this caller's shed.
              expect(w.outcome!.error).toBeInstanceOf(Error)
              expect(w.abortReason, 'an aborted waiter rejects with its own reason').toBeUndefined()
            }
          }
          expect(violations).toEqual([])
          expect([...alive.values()].every((n) => n === 0)).toBe(true)
          expect(dedupe.size).toBe(0)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('U1 waiters that joined one upstream call all receive that call’s result object', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 30 }), fc.nat(), async (n, abortMask) => {
        const guard = dedupeGuard({ ttlMs: 0, clock: testClock() })
        const done = deferred<{ answer: number }>()
        let upstream = 0
        const fn = (): Promise<{ answer: number }> => {
          upstream++
          return done.promise
        }
        // Some callers leave before the answer, in index order; at least one stays.
        const aborts = Array.from({ length: n }, () => new AbortController())
        const results = aborts.map((c) =>
          guard.execute(fn, { key: 'same', signal: c.signal }).then(
            (v) => ({ v }),
            (e: unknown) => ({ e }),
          ),
        )
        for (let i = 0; i < n - 1; i++) if ((abortMask >> i) & 1) aborts[i]!.abort(new Error(`left ${i}`))
        await flush()
        done.resolve({ answer: 42 })
        const outcomes = await Promise.all(results)
        expect(upstream).toBe(1)
        const values = outcomes.filter((o): o is { v: { answer: number } } => 'v' in o).map((o) => o.v)
        expect(values.length).toBeGreaterThan(0)
        expect(new Set(values).size).toBe(1)
        outcomes.forEach((o, i) => {
          if ((abortMask >> i) & 1 && i < n - 1) expect(o).toEqual({ e: new Error(`left ${i}`) })
          else expect(o).toEqual({ v: { answer: 42 } })
        })
      }),
      { numRuns: 100 },
    )
  })
})
