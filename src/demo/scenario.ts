import type { FakeProvider } from '../testing.js'

/** The models the agents use; each is its own breaker (`openai:<model>`, `anthropic:<model>`). */
export const OPENAI_MODEL = 'gpt-4o-mini'
export const ANTHROPIC_MODEL = 'claude-3-5-haiku-latest'
export const SERVICES = [`openai:${OPENAI_MODEL}`, `anthropic:${ANTHROPIC_MODEL}`] as const

/** One act of the story, as fractions of the run so a short run tells the same story. */
export interface Phase {
  readonly name: string
  readonly from: number
  readonly until: number
  readonly what: string
}

/** The act in which the provider rate-limits with a Retry-After: every foreground call still succeeds. */
export const BURST_PHASE = '429 burst'

/** How many requests the provider refuses in the 429 burst. */
const BURST_429S = 6

/** The act in which demand exceeds the provider's budget: calls wait their turn, none is shed. */
export const BUDGET_PHASE = 'rate limit'

/**
 * The window of the provider's budget in the rate-limit act, and of the guard's rate limit (which
 * learns the limit from the provider's headers): a second, the demo's time scale (real RPM and
 * TPM budgets are per minute).
 */
export const BUDGET_WINDOW_MS = 1_000

/**
 * The provider's budget per API key in the rate-limit act: requests per window, sized to the agent
 * count (each key serves half the agents, who ask it for about 2.8 calls a second each), so demand
 * is well above it whatever --sessions says.
 */
export function phaseBudget(sessions: number): { requests: number; windowMs: number } {
  return { requests: Math.max(2, sessions), windowMs: BUDGET_WINDOW_MS }
}

export const PHASES: readonly Phase[] = Object.freeze([
  {
    name: 'warm-up',
    from: 0,
    until: 0.15,
    what: 'normal traffic (throughout: brief 502 blips that retries absorb)',
  },
  {
    name: BURST_PHASE,
    from: 0.15,
    until: 0.25,
    what: 'anthropic answers a burst of 429s with a retry-after: callers wait it out, all succeed',
  },
  { name: 'spike', from: 0.25, until: 0.4, what: 'agents stop thinking: background work is shed' },
  { name: 'outage', from: 0.45, until: 0.65, what: 'openai answers 503, then 500' },
  {
    name: 'recovery',
    from: 0.65,
    until: 0.8,
    what: 'openai is healthy again: the breaker probes and closes',
  },
  {
    name: BUDGET_PHASE,
    from: 0.8,
    until: 1,
    what: 'both APIs enforce a budget below demand: calls wait for it, none shed, no 429 storm',
  },
])

/** Everything in the scenario that scales with its length. */
export interface Scenario {
  readonly durationMs: number
  /** Breaker open time after the first opening (doubles per failed probe, up to 2×). */
  readonly recoveryMs: number
  /** First retry delay (doubles per retry). */
  readonly retryBaseMs: number
  /** The Retry-After of the 429 burst. */
  readonly retryAfterMs: number
  /** How often the provider has a short 502 blip outside the acts. */
  readonly blipEveryMs: number
  /** How often every agent asks the same question at the same moment (dedupe joins it). */
  readonly broadcastEveryMs: number
  /** Least time between two compactions of one session. */
  readonly compactionCooldownMs: number
  /** The fake provider's answer time per model. */
  readonly latencyMs: Readonly<Record<'openai' | 'anthropic', number>>
  /** The phase running `elapsedMs` after the start ('steady' between phases). */
  phaseAt(elapsedMs: number): string
}

export function scenario(durationS: number): Scenario {
  const durationMs = Math.round(durationS * 1000)
  return {
    durationMs,
    recoveryMs: Math.max(150, Math.round(durationMs * 0.05)),
    retryBaseMs: Math.max(20, Math.round(durationMs * 0.005)),
    retryAfterMs: Math.max(50, Math.round(durationMs * 0.015)),
    blipEveryMs: Math.round(durationMs / 24),
    broadcastEveryMs: Math.max(400, Math.round(durationMs * 0.075)),
    compactionCooldownMs: Math.max(200, Math.round(durationMs * 0.05)),
    latencyMs: { openai: 60, anthropic: 90 },
    phaseAt(elapsedMs) {
      const f = elapsedMs / durationMs
      return PHASES.find((p) => f >= p.from && f < p.until)?.name ?? (f >= 1 ? 'end' : 'steady')
    },
  }
}

/**
 * Scripts the provider's side of the story as time windows on the fake (its clock is the system
 * clock, the same in every process, so a fleet sees one outage). The first matching window wins,
 * so the faults are scheduled before the all-run latency windows.
 */
export function scheduleFaults(fake: FakeProvider, s: Scenario, startMs: number): void {
  const at = (fraction: number): number => startMs + Math.round(s.durationMs * fraction)
  const phase = (name: string): Phase => PHASES.find((p) => p.name === name)!
  // A burst of 429s: the first requests of the act are refused with a Retry-After; the cooldown
  // they start holds every caller back until the provider said, and the retries are answered.
  const burst = phase(BURST_PHASE)
  fake.schedule({
    fault: { kind: 'rate_limit', retryAfterMs: s.retryAfterMs },
    model: ANTHROPIC_MODEL,
    from: at(burst.from),
    until: at(burst.until),
    times: BURST_429S,
  })
  const outage = phase('outage')
  const middle = (outage.from + outage.until) / 2
  const openai = { model: OPENAI_MODEL }
  fake.schedule({
    fault: { kind: 'server_error', status: 503 },
    ...openai,
    from: at(outage.from),
    until: at(middle),
  })
  fake.schedule({
    fault: { kind: 'server_error', status: 500 },
    ...openai,
    from: at(middle),
    until: at(outage.until),
  })
  // Between the acts, a provider is never perfect: short 502 blips that a retry rides out. They
  // catch about one request each (2 % of the time at any length), too few to open a breaker.
  const blipMs = Math.max(2, Math.min(15, Math.round(s.durationMs / 1_300)))
  for (let t = 1.5 * s.blipEveryMs; t < s.durationMs; t += s.blipEveryMs) {
    if (s.phaseAt(t) === 'warm-up' || s.phaseAt(t) === 'steady' || s.phaseAt(t) === 'recovery') {
      const from = startMs + Math.round(t)
      fake.schedule({ fault: { kind: 'server_error', status: 502 }, from, until: from + blipMs })
    }
  }
  // Answers take a little while, as real ones do: that is what lets calls overlap.
  const whole = { from: startMs, until: at(1) + 60_000 }
  fake.schedule({ fault: { kind: 'delay', ms: s.latencyMs.openai }, model: OPENAI_MODEL, ...whole })
  fake.schedule({ fault: { kind: 'delay', ms: s.latencyMs.anthropic }, model: ANTHROPIC_MODEL, ...whole })
}

/**
 * Switches the provider's budgets on for the rate-limit act (every API key gets `budget`) and off
 * after it; returns the cancel for the timers it set.
 */
export function scheduleBudget(
  fake: FakeProvider,
  s: Scenario,
  startMs: number,
  budget: { requests: number; windowMs: number },
): () => void {
  const act = PHASES.find((p) => p.name === BUDGET_PHASE)!
  const timers = [
    setTimeout(() => fake.setRateLimits(budget), startMs + s.durationMs * act.from - Date.now()),
  ]
  if (act.until < 1) {
    timers.push(
      setTimeout(() => fake.setRateLimits(undefined), startMs + s.durationMs * act.until - Date.now()),
    )
  }
  return () => timers.forEach((t) => clearTimeout(t))
}
