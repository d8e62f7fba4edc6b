/**
 * The in-memory breaker, driven through a real guard, against a reference model written from the
 * spec (C1–C5, D6): random configurations, random interleavings of concurrent calls, outcomes and
 * time steps. After every step the admissions, the snapshot and the transitions must agree.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { CircuitConfig, CircuitState, StateChange } from '../../src/circuit/circuit-backend.js'
import { circuitGuard } from '../../src/circuit/circuit-guard.js'
import { isBrokenCircuitError } from '../../src/core/errors/broken-circuit-error.js'
import { testClock } from '../../src/testing/test-clock.js'
import { deferred, type Deferred, flush, httpError } from '../helpers/deferred.js'

type Ending = 'success' | 'failure' | 'bad-request' | 'ignore' | 'cooldown'
type Op =
  | { kind: 'start' }
  | { kind: 'finish'; pick: number; as: Ending; cooldownMs: number }
  | { kind: 'advance'; ms: number }

/** A plain reading of the spec: no shared code with src/circuit/breaker-state.ts. */
class Model {
  state: CircuitState = 'closed'
  failures = 0
  failedProbes = 0
  openUntil = 0
  /** Open only because the provider asked to wait: it ends closed, not half-open. */
  cooling = false
  probe: number | undefined
  probeUntil = 0
  probeWins = 0
  calls: { at: number; failed: boolean }[] = []
  readonly transitions: string[] = []

  constructor(
    private readonly c: CircuitConfig,
    private readonly jitter: number,
  ) {}

  private go(to: CircuitState): void {
    if (to !== this.state) this.transitions.push(`${this.state}>${to}`)
    this.state = to
  }

  /** Time passes: open ends after its time (a cooldown closes again); a probe lease runs out. */
  observe(now: number): void {
    if (this.state === 'open' && now >= this.openUntil && this.cooling) {
      this.cooling = false
      this.go('closed')
    }
    if (this.state === 'open' && now >= this.openUntil) {
      this.go('half-open')
      this.probe = undefined
      this.probeWins = 0
    }
    if (this.state === 'half-open' && this.probe !== undefined && now >= this.probeUntil)
      this.probe = undefined
  }

  admit(now: number, id: number): { allowed: boolean; retryAfterMs?: number; cooldown?: boolean } {
    this.observe(now)
    if (this.state === 'closed') return { allowed: true }
    if (this.state === 'open') {
      return { allowed: false, retryAfterMs: this.openUntil - now, cooldown: this.cooling }
    }
    if (this.probe !== undefined) return { allowed: false, retryAfterMs: 0 }
    this.probe = id
    this.probeUntil = now + this.c.probeLeaseMs
    return { allowed: true }
  }

  private openFor(now: number, ms: number, cooling = false): void {
    this.cooling = cooling
    this.go('open')
    this.openUntil = now + ms
    this.probe = undefined
    this.probeWins = 0
  }

  private backoffMs(): number {
    const { recoveryMs, maxRecoveryMs } = this.c
    if (this.failedProbes === 0) return Math.min(recoveryMs, maxRecoveryMs)
    const longest = recoveryMs * 2 ** this.failedProbes
    return Math.min(longest / 2 + (longest / 2) * this.jitter, maxRecoveryMs)
  }

  private closeNow(): void {
    this.cooling = false
    this.go('closed')
    this.failures = 0
    this.failedProbes = 0
    this.probe = undefined
    this.probeWins = 0
    this.calls = []
  }

  /** Failures and calls in the window, bucket by bucket as the spec's window slides. */
  private rateReached(now: number): boolean {
    const rate = this.c.failureRate!
    const bucket = rate.windowMs / 10
    const live = this.calls.filter((x) => Math.floor(now / bucket) - Math.floor(x.at / bucket) < 10)
    const failed = live.filter((x) => x.failed).length
    return live.length >= rate.minCalls && failed >= rate.ratio * live.length
  }

  finish(now: number, id: number, wasProbe: boolean, ending: Ending, cooldownMs: number): void {
    this.observe(now)
    if (ending === 'cooldown' && cooldownMs > 0) {
      const until = now + Math.min(cooldownMs, this.c.maxRecoveryMs)
      if (this.state === 'open') this.openUntil = Math.max(this.openUntil, until)
      else this.openFor(now, until - now, this.state === 'closed')
    }
    if (ending === 'ignore' || ending === 'cooldown') {
      if (wasProbe && this.state === 'half-open' && this.probe === id) this.probe = undefined
      return
    }
    const failed = ending === 'failure'
    if (this.state === 'closed') {
      if (wasProbe) return
      if (this.c.failureRate) this.calls.push({ at: now, failed })
      if (!failed) {
        this.failures = 0
        return
      }
      this.failures++
      if (this.failures >= this.c.threshold || (this.c.failureRate && this.rateReached(now))) {
        this.calls = []
        this.openFor(now, this.backoffMs())
      }
      return
    }
    if (this.state === 'open' || !wasProbe || this.probe !== id) return
    this.probe = undefined
    if (failed) {
      this.failedProbes++
      this.openFor(now, this.backoffMs())
    } else if (++this.probeWins >= this.c.halfOpenSuccesses) {
      this.closeNow()
    }
  }

  snapshot(now: number): { state: CircuitState; failures: number; retryAfterMs: number } {
    this.observe(now)
    const retryAfterMs = this.state === 'open' ? this.openUntil - now : 0
    return { state: this.state, failures: this.failures, retryAfterMs }
  }
}

const configArb = fc
  .record({
    threshold: fc.integer({ min: 1, max: 4 }),
    recoveryMs: fc.integer({ min: 100, max: 2_000 }),
    maxFactor: fc.integer({ min: 1, max: 8 }),
    halfOpenSuccesses: fc.integer({ min: 1, max: 3 }),
    probeLeaseMs: fc.integer({ min: 500, max: 5_000 }),
    failureRate: fc.option(
      fc.record({
        ratio: fc.double({ min: 0.25, max: 1, noNaN: true }),
        minCalls: fc.integer({ min: 1, max: 6 }),
        windowMs: fc.integer({ min: 1_000, max: 10_000 }),
      }),
      { nil: undefined },
    ),
  })
  .map(({ maxFactor, ...c }) => ({ ...c, maxRecoveryMs: c.recoveryMs * maxFactor }))

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'start' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      pick: fc.nat(),
      as: fc.constantFrom<Ending>(
        'success',
        'failure',
        'failure',
        'failure',
        'bad-request',
        'ignore',
        'cooldown',
      ),
      cooldownMs: fc.integer({ min: 0, max: 20_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
  },
)

function errorFor(ending: Ending, cooldownMs: number): unknown {
  if (ending === 'failure') return httpError(503)
  if (ending === 'bad-request') return httpError(400)
  if (ending === 'cooldown') return httpError(429, { 'retry-after-ms': String(cooldownMs) })
  return httpError(429) // no Retry-After: ignored, feeds nothing
}

describe('breaker model', () => {
  it('C1 C3 C5 D6 the in-memory breaker matches the reference model under random calls and time', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.array(opArb, { minLength: 20, maxLength: 80 }),
        async (options, jitter, ops) => {
          const clock = testClock()
          const g = circuitGuard({ ...options, clock, random: () => jitter })
          const model = new Model(g.config, jitter)
          const seen: string[] = []
          g.onStateChange((e: StateChange) => seen.push(`${e.from}>${e.to}`))
          const inFlight: { id: number; probe: boolean; gate: Deferred<string>; done: Promise<unknown> }[] =
            []
          let ids = 0
          for (const op of ops) {
            const now = clock.now()
            if (op.kind === 'advance') {
              await clock.advance(op.ms)
            } else if (op.kind === 'start') {
              const id = ++ids
              const wasHalfOpen = model.snapshot(now).state === 'half-open'
              const expected = model.admit(now, id)
              const gate = deferred<string>()
              let ran = false
              const done = g.execute(() => {
                ran = true
                return gate.promise
              })
              done.catch(() => undefined)
              expect(ran).toBe(expected.allowed)
              if (ran) inFlight.push({ id, probe: wasHalfOpen, gate, done })
              else {
                const error = await done.catch((e: unknown) => e)
                expect(isBrokenCircuitError(error)).toBe(true)
                expect((error as { retryAfterMs: number }).retryAfterMs).toBe(expected.retryAfterMs)
                expect((error as { reason: string }).reason === 'cooldown').toBe(expected.cooldown === true)
              }
            } else if (inFlight.length > 0) {
              const [call] = inFlight.splice(op.pick % inFlight.length, 1)
              model.finish(now, call!.id, call!.probe, op.as, op.cooldownMs)
              if (op.as === 'success') call!.gate.resolve('ok')
              else call!.gate.reject(errorFor(op.as, op.cooldownMs))
              await call!.done.catch(() => undefined)
              await flush()
            }
            expect(await g.backend.snapshot('default', g.config)).toEqual(model.snapshot(clock.now()))
            expect(seen).toEqual(model.transitions)
          }
          for (const call of inFlight) call.gate.resolve('end')
          await Promise.all(inFlight.map((c) => c.done.catch(() => undefined)))
        },
      ),
      { numRuns: 500 },
    )
  })
})
