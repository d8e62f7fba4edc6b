/** Helpers shared by the circuit guard tests: a guard on a test clock and one-line calls. */
import { expect } from 'vitest'
import { circuitGuard, type CircuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CircuitOptions } from '../../src/circuit/circuit-options.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { httpError } from '../helpers/deferred.js'

export const R = 1_000

export function setup(o: Partial<CircuitOptions> = {}): { clock: TestClock; g: CircuitGuard } {
  const clock = testClock()
  return { clock, g: circuitGuard({ threshold: 3, recoveryMs: R, clock, ...o }) }
}

/** What the call threw (or 'ok:<value>'). */
export const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => `ok:${String(v)}`,
    (e: unknown) => e,
  )
export const fail = (g: CircuitGuard, error: unknown = httpError(503), service?: string) =>
  outcome(g.execute(() => Promise.reject(error), service === undefined ? undefined : { service }))
export const succeed = (g: CircuitGuard, service?: string) =>
  outcome(g.execute(() => 'ok', service === undefined ? undefined : { service }))
export async function openIt(g: CircuitGuard): Promise<void> {
  for (let i = 0; i < g.config.threshold; i++) await fail(g)
  expect(await g.state()).toBe('open')
}
export const retryAfter = async (g: CircuitGuard): Promise<number> =>
  (await g.backend.snapshot('default', g.config)).retryAfterMs
