import { ALLOW } from '../../breaker-state.js'
import type { Admission, CircuitConfig, CircuitState } from '../../circuit-backend.js'
import type { ScriptReply } from './redis-scripts.js'
import type { CachedState } from './state-cache.js'

/** What a caller that joined a flight gets when the flight's own caller got the probe. */
const PROBE_TAKEN: Admission = Object.freeze({ kind: 'deny', retryAfterMs: 0, state: 'half-open' })

/**
 * One admit round trip per service at a time: callers that arrive while it is out share its
 * answer, exactly as Redis would have answered them at that moment (a probe goes to one caller,
 * the others are told it is taken). So a burst of callers meeting a stale or missing cache entry
 * — a fleet of waiters whose cooldown just ended, or the first calls after a reconnect — costs one
 * command per process, not one per caller.
 */
export class AdmitFlights {
  private readonly flights = new Map<string, Promise<Admission>>()

  /** Joins the service's flight, or starts one with `start` (which never rejects). */
  run(service: string, start: () => Promise<Admission>): Promise<Admission> {
    const flight = this.flights.get(service)
    if (flight !== undefined) return flight.then(shared)
    const started = start()
    this.flights.set(service, started)
    const landed = (): void => {
      if (this.flights.get(service) === started) this.flights.delete(service)
    }
    started.then(landed, landed)
    return started
  }
}

function shared(a: Admission): Admission {
  return a.kind === 'probe' ? PROBE_TAKEN : a
}

/** A breaker that is open (for the time left; a cooldown says so) or half-open with its probe out. */
export function denial(state: CircuitState, remainingMs: number, cooling: boolean): Admission {
  if (state !== 'open') return PROBE_TAKEN
  return cooling
    ? { kind: 'deny', retryAfterMs: remainingMs, state: 'open', cooldown: true }
    : { kind: 'deny', retryAfterMs: remainingMs, state: 'open' }
}

/**
 * What a script reply means for the call that asked: the admit script's own answer, or — for the
 * reply of a re-assertion made on the way (see LostState) — what the state it reports implies.
 */
export function admissionOf(r: ScriptReply): Admission {
  if (r.kind === 'allow') return ALLOW
  if (r.kind === 'probe') return { kind: 'probe', token: r.token }
  if (r.kind === 'deny' || r.state !== 'closed') return denial(r.state, r.remainingMs, r.cooling)
  return ALLOW
}

/**
 * A cooldown of `ms` that Redis would ignore: the cached breaker is already open at least that
 * long (the script keeps the longer of the two), so no command needs to go out.
 */
export function coveredByCache(
  e: CachedState | undefined,
  now: number,
  ms: number,
  config: CircuitConfig,
): boolean {
  return (
    e !== undefined &&
    e.state === 'open' &&
    e.remainingMs - (now - e.at) >= Math.min(ms, config.maxRecoveryMs)
  )
}
