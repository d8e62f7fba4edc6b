import type { Admission } from '../../circuit-backend.js'

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
