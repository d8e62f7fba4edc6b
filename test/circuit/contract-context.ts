/** What every test of the CircuitBackend contract shares: the backend under test, time and call helpers. */
import { afterEach, beforeEach, expect } from 'vitest'
import type { CircuitBackend } from '../../src/circuit/circuit-backend.js'
import { circuitGuard, type CircuitGuard } from '../../src/circuit/circuit-guard.js'
import type { CircuitOptions } from '../../src/circuit/circuit-options.js'
import type { Clock } from '../../src/core/clock.js'
import { testClock, type TestClock } from '../../src/testing/test-clock.js'
import { flush, httpError } from '../helpers/deferred.js'

export interface BackendHarness {
  backend: CircuitBackend
  /** Closes what `makeBackend` opened. */
  cleanup(): Promise<void>
  /** Lets `ms` of the backend's time pass. Default: `clock.advance(ms)` on the test clock. */
  waitFor?(ms: number): Promise<void>
  /** Clock for the guards the suite builds (durations, lease renewal). Default: the test clock. */
  clock?: Clock
  /**
   * Resolves once the backend has applied every report sent so far and delivered its events
   * (the guard reports off the call path). Default: one macrotask turn.
   */
  settle?(): Promise<void>
}

export interface ContractOptions {
  /** recoveryMs of the suite's breakers; with real time, keep it far above a round trip. Default 1 000. */
  recoveryMs?: number
  /** How much lower a duration read back may be than the one set, for time that really passed. Default 0. */
  slackMs?: number
}

export type MakeBackend = (clock: TestClock) => Promise<BackendHarness>

export interface ContractContext {
  /** recoveryMs of every guard the suite builds. */
  readonly R: number
  readonly slack: number
  readonly backend: CircuitBackend
  /** A service name unique to the running test. */
  readonly service: string
  waitFor(ms: number): Promise<void>
  settle(): Promise<void>
  /** A guard on the backend under test: threshold 3, recoveryMs R, the test's service. */
  guard(o?: Partial<CircuitOptions>): CircuitGuard
  /** Runs one call that fails with `error` (default a 503); returns what it threw, once applied. */
  failWith(g: CircuitGuard, error?: unknown, service?: string): Promise<unknown>
  succeed(g: CircuitGuard, service?: string): Promise<unknown>
  /** Fails `threshold` calls and checks the breaker opened. */
  openIt(g: CircuitGuard, service?: string): Promise<void>
}

export const serverError = (): Error => httpError(503)

/** Registers the per-test set-up (call inside a `describe`) and returns the shared context. */
export function contractContext(
  name: string,
  makeBackend: MakeBackend,
  options: ContractOptions,
): ContractContext {
  let h: BackendHarness | undefined
  let clock: TestClock = testClock()
  let service = ''
  let n = 0
  beforeEach(async () => {
    clock = testClock(1_000_000)
    h = await makeBackend(clock)
    service = `contract-${name}-${++n}-${Math.random().toString(36).slice(2, 8)}`
  })
  afterEach(async () => {
    await h?.cleanup()
    h = undefined
  })
  const harness = (): BackendHarness => {
    if (h === undefined) throw new Error('the contract context is only usable inside a test')
    return h
  }
  const t: ContractContext = {
    R: options.recoveryMs ?? 1_000,
    slack: options.slackMs ?? 0,
    get backend() {
      return harness().backend
    },
    get service() {
      return service
    },
    waitFor: (ms) => {
      const w = harness().waitFor
      return w ? w(ms) : clock.advance(ms)
    },
    settle: () => {
      const s = harness().settle
      return s ? s() : flush()
    },
    guard: (o = {}) =>
      circuitGuard({
        backend: harness().backend,
        clock: harness().clock ?? clock,
        threshold: 3,
        recoveryMs: t.R,
        service,
        ...o,
      }),
    failWith: async (g, error = serverError(), svc = service) => {
      const thrown = await g
        .execute(() => Promise.reject(error), { service: svc })
        .then(
          () => undefined,
          (e: unknown) => e,
        )
      await t.settle()
      return thrown
    },
    succeed: async (g, svc = service) => {
      const value = await g.execute(() => 'ok', { service: svc })
      await t.settle()
      return value
    },
    openIt: async (g, svc = service) => {
      for (let i = 0; i < g.config.threshold; i++) await t.failWith(g, serverError(), svc)
      expect(await g.state(svc)).toBe('open')
    },
  }
  return t
}
