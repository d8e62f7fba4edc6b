import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { Priority } from '../../src/core/call-options.js'
import { isBackpressureShedError } from '../../src/core/errors/backpressure-shed-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush, type Deferred } from '../helpers/deferred.js'

const HARD_LIMIT = 3
const COST_LIMIT = 6
const QUEUE_TIMEOUT_MS = 40

/**
 * Random programs interleave arrivals with completions, failures, aborts (of queued and of running
 * calls), the end of holds (streams) and the passing of time (queue timeouts). After every step the
 * guard is compared with a model of what it must be doing.
 */
type Action =
  | { kind: 'arrive'; priority: Priority; cost: number; hold: boolean }
  | { kind: 'succeed' | 'fail' | 'abort' | 'end-hold'; pick: number }
  | { kind: 'tick'; ms: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('arrive' as const),
      priority: fc.constantFrom<Priority>('foreground', 'background'),
      cost: fc.integer({ min: 0, max: 4 }),
      hold: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom('succeed' as const, 'fail' as const, 'abort' as const, 'end-hold' as const),
      pick: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30 }) }),
  },
)

/** One call as the test sees it. */
interface Call {
  readonly index: number
  readonly priority: Priority
  readonly hold: boolean
  readonly gate: Deferred<string>
  readonly end: Deferred<void>
  readonly abort: AbortController
  started: boolean
  /** fn's promise has settled (resolved or rejected). */
  fnSettled: boolean
  fnFailed: boolean
  holdEnded: boolean
  settled: boolean
  shed: boolean
}

/** A call holds a slot from the moment fn starts until fn fails, or fn succeeds and its hold (if any) ends. */
const holdsSlot = (c: Call): boolean => c.started && (!c.fnSettled || (!c.fnFailed && c.hold && !c.holdEnded))

describe('backpressure under random interleavings', () => {
  it('B3 depth matches the calls holding a slot, stays within [0, hardLimit] and costLimit, the queue within maxQueue, and every call settles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        async (actions, maxQueue, shedBackground) => {
          const clock = testClock()
          const guard = backpressureGuard({
            hardLimit: HARD_LIMIT,
            softLimit: 2,
            costLimit: COST_LIMIT,
            maxQueue,
            softAction: shedBackground ? 'shed-background' : 'warn',
            ...(maxQueue > 0 ? { queueTimeoutMs: QUEUE_TIMEOUT_MS } : {}),
            clock,
          })
          const calls: Call[] = []
          const settledAll: Promise<void>[] = []
          const violations: string[] = []

          const check = (): void => {
            expect(guard.depth).toBe(calls.filter(holdsSlot).length)
            expect(guard.depth).toBeGreaterThanOrEqual(0)
            expect(guard.depth).toBeLessThanOrEqual(HARD_LIMIT)
            expect(guard.inflightCost).toBeLessThanOrEqual(COST_LIMIT)
            expect(guard.queued).toBe(calls.filter((c) => !c.started && !c.settled).length)
            expect(guard.queued).toBeLessThanOrEqual(maxQueue)
          }

          for (const a of actions) {
            if (a.kind === 'arrive') {
              const c: Call = {
                index: calls.length,
                priority: a.priority,
                hold: a.hold,
                gate: deferred<string>(),
                end: deferred<void>(),
                abort: new AbortController(),
                started: false,
                fnSettled: false,
                fnFailed: false,
                holdEnded: false,
                settled: false,
                shed: false,
              }
              // A shed or never-admitted call never looks at its gate: observe it so failing it is not unhandled.
              c.gate.promise.catch(() => undefined)
              calls.push(c)
              settledAll.push(
                guard
                  .execute(
                    (ctx) => {
                      // Recorded, not thrown: a throw here would only fail this call.
                      if (c.settled) violations.push(`fn of call ${c.index} started after it settled`)
                      c.started = true
                      // A cooperative fn: the caller's abort ends it.
                      ctx.signal.addEventListener('abort', () => c.gate.reject(ctx.signal.reason), {
                        once: true,
                      })
                      if (c.hold) ctx.hold(c.end.promise)
                      return c.gate.promise.then(
                        (v) => {
                          c.fnSettled = true
                          return v
                        },
                        (error: unknown) => {
                          c.fnSettled = true
                          c.fnFailed = true
                          throw error
                        },
                      )
                    },
                    { priority: a.priority, cost: a.cost, signal: c.abort.signal },
                  )
                  .then(
                    () => undefined,
                    (error: unknown) => {
                      if (!c.started) c.shed = isBackpressureShedError(error)
                    },
                  )
                  .finally(() => {
                    c.settled = true
                  }),
              )
            } else if (a.kind === 'tick') {
              await clock.advance(a.ms)
            } else {
              const live = calls.filter((c) => !c.settled || (a.kind === 'end-hold' && !c.holdEnded))
              const c = live[a.pick % Math.max(1, live.length)]
              if (c === undefined) continue
              if (a.kind === 'succeed') c.gate.resolve('ok')
              else if (a.kind === 'fail') c.gate.reject(new Error('provider failed'))
              else if (a.kind === 'abort') c.abort.abort(new Error('caller left'))
              else {
                c.holdEnded = true
                c.end.resolve()
              }
            }
            await flush()
            check()
          }

          // Drain: finish every call and hold, let queue timers fire.
          for (const c of calls) {
            c.gate.resolve('late')
            c.holdEnded = true
            c.end.resolve()
          }
          await flush()
          await clock.advance(QUEUE_TIMEOUT_MS)
          await Promise.all(settledAll)
          await flush()
          expect(violations).toEqual([])
          expect(calls.every((c) => c.settled)).toBe(true)
          expect([guard.depth, guard.queued, guard.inflightCost]).toEqual([0, 0, 0])
          expect(clock.pending).toBe(0)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('B4 within a class calls start in arrival order, and background never starts while foreground waits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 40 }), async (actions) => {
        const clock = testClock()
        const guard = backpressureGuard({
          hardLimit: 2,
          costLimit: 4,
          maxQueue: 4,
          queueTimeoutMs: QUEUE_TIMEOUT_MS,
          clock,
        })
        const gates: Deferred<void>[] = []
        const aborts: AbortController[] = []
        const waiting = new Map<number, Priority>()
        const started: { index: number; priority: Priority }[] = []
        const all: Promise<unknown>[] = []
        const violations: string[] = []
        // A call stops waiting the moment it is shed or aborted, not when its rejection reaches us.
        guard.onShed((e) => waiting.delete(Number(e.service.slice('call-'.length))))
        for (const a of actions) {
          if (a.kind === 'arrive') {
            const index = gates.length
            const gate = deferred<void>()
            const abort = new AbortController()
            gates.push(gate)
            aborts.push(abort)
            waiting.set(index, a.priority)
            all.push(
              guard
                .execute(
                  () => {
                    waiting.delete(index)
                    if (a.priority === 'background' && [...waiting.values()].includes('foreground')) {
                      violations.push(`background call ${index} started while a foreground call waited`)
                    }
                    started.push({ index, priority: a.priority })
                    return gate.promise
                  },
                  { priority: a.priority, cost: a.cost, signal: abort.signal, service: `call-${index}` },
                )
                .catch(() => undefined)
                .finally(() => waiting.delete(index)),
            )
          } else if (a.kind === 'tick') {
            await clock.advance(a.ms)
          } else if (gates.length > 0) {
            const i = a.pick % gates.length
            if (a.kind === 'abort') {
              waiting.delete(i)
              aborts[i]!.abort(new Error('caller left'))
            } else gates[i]!.resolve()
          }
          await flush()
        }
        gates.forEach((g) => g.resolve())
        await flush()
        await clock.advance(QUEUE_TIMEOUT_MS)
        await Promise.all(all)
        expect(violations).toEqual([])
        for (const priority of ['foreground', 'background'] as const) {
          const order = started.filter((s) => s.priority === priority).map((s) => s.index)
          expect(order).toEqual([...order].sort((x, y) => x - y))
        }
        expect([guard.depth, guard.queued]).toEqual([0, 0])
      }),
      { numRuns: 200 },
    )
  })
})
