/**
 * The behaviour every CircuitBackend must show, run through real guards (C1–C6, D6). A backend's
 * test file calls `describeCircuitBackend(name, makeBackend, options)`; `makeBackend(clock)` gets a
 * fresh test clock before each test and returns a `BackendHarness`:
 *
 * - memory: `async (clock) => ({ backend: new InMemoryCircuitBackend({ clock }), cleanup: async () => {} })`;
 *   time is the test clock and the suite advances it.
 * - Redis (time is the server's, the clock is ignored): return `waitFor: (ms) => sleep(ms)` (a real
 *   wait), `clock: systemClock` for the guards (lease renewal must really run), a `settle()` that
 *   resolves once the backend has applied the reports sent so far and delivered its events, and
 *   pass `{ recoveryMs, slackMs }` so waits stay short and durations read back may be lower by the
 *   time that really passed.
 *
 * Services are unique per test, so one backend (or one Redis server) can serve the whole file.
 */
import { describe } from 'vitest'
import { probeContract } from './backend-contract-probes.js'
import { stateContract } from './backend-contract-states.js'
import { contractContext, type ContractOptions, type MakeBackend } from './contract-context.js'

export type { BackendHarness, ContractContext, ContractOptions, MakeBackend } from './contract-context.js'

export function describeCircuitBackend(
  name: string,
  makeBackend: MakeBackend,
  options: ContractOptions = {},
): void {
  describe(`CircuitBackend contract: ${name}`, () => {
    const t = contractContext(name, makeBackend, options)
    stateContract(t)
    probeContract(t)
  })
}
