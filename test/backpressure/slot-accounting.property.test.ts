import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backpressureGuard } from '../../src/backpressure/backpressure-guard.js'
import type { Priority } from '../../src/core/call-options.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, flush } from '../helpers/deferred.js'

type Ending = 'succeed' | 'fail' | 'abort' | 'hold'
interface Op {
  priority: Priority
  cost: number
  ending: Ending
}

const op = fc.record({
  priority: fc.constantFrom<Priority>('foreground', 'background'),
  cost: fc.integer({ min: 0, max: 6 }),
  ending: fc.constantFrom<Ending>('succeed', 'fail', 'abort', 'hold'),
})

describe('B3 slot accounting under any interleaving', () => {
  it('B3 depth stays within [0, hardLimit], cost within costLimit, and everything is released at the end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { minLength: 25, maxLength: 25 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        async (ops: Op[], picks: number[], maxQueue, shedBackground) => {
          const clock = testClock()
          const guard = backpressureGuard({
            hardLimit: 3,
            softLimit: 1,
            costLimit: 8,
            maxQueue,
            softAction: shedBackground ? 'shed-background' : 'warn',
            ...(maxQueue > 0 ? { queueTimeoutMs: 50 } : {}),
            clock,
          })
          const check = (): void => {
            expect(guard.depth).toBeGreaterThanOrEqual(0)
            expect(guard.depth).toBeLessThanOrEqual(3)
            expect(guard.inflightCost).toBeLessThanOrEqual(8)
            expect(guard.queued).toBeLessThanOrEqual(maxQueue)
          }
          const finishers: (() => void)[] = []
          const results: Promise<unknown>[] = []
          for (const o of ops) {
            const abort = new AbortController()
            const gate = deferred<string>()
            const end = deferred<void>()
            // A shed call never looks at its gate: observe it so its rejection is not unhandled.
            gate.promise.catch(() => undefined)
            results.push(
              guard
                .execute(
                  (ctx) => {
                    if (o.ending === 'hold') ctx.hold(end.promise)
                    return o.ending === 'hold' ? 'stream' : gate.promise
                  },
                  { priority: o.priority, cost: o.cost, signal: abort.signal },
                )
                .catch(() => undefined),
            )
            finishers.push(() => {
              if (o.ending === 'succeed') gate.resolve('ok')
              else if (o.ending === 'fail') gate.reject(new Error('fail'))
              else if (o.ending === 'abort') abort.abort(new Error('abort'))
              else end.resolve()
              gate.resolve('late') // a call aborted while running settles its fn anyway
            })
            check()
          }
          // Finish the calls in an arbitrary order, letting the queue move between steps.
          for (let i = 0; finishers.length > 0; i++) {
            const [finish] = finishers.splice(picks[i % picks.length]! % finishers.length, 1)
            finish!()
            await flush()
            check()
          }
          await clock.advance(50)
          await Promise.all(results)
          await flush()
          expect([guard.depth, guard.queued, guard.inflightCost]).toEqual([0, 0, 0])
          expect(clock.pending).toBe(0)
        },
      ),
      { numRuns: 150 },
    )
  })
})
