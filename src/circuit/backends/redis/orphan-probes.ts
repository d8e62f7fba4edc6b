import type { CircuitConfig } from '../../circuit-backend.js'

/** How many unanswered probe tokens are kept for handing back (older ones are left to their lease). */
const MAX_ORPHANS = 100

interface Orphan {
  readonly service: string
  readonly config: CircuitConfig
  readonly token: string
}

/**
 * Probe leases this process may hold without knowing it: an admit that timed out on the client
 * after the script had run (it may have taken the probe), or a probe's report or release that
 * failed. Left alone, such a lease keeps every process away from the half-open probe until it
 * expires (probeLeaseMs, a minute by default) although the provider may be back. They are handed
 * back (release) as soon as Redis answers again; a token the lease no longer has is ignored there.
 */
export class OrphanProbes {
  private readonly orphans: Orphan[] = []

  add(service: string, config: CircuitConfig, token: string): void {
    if (token === '') return
    if (this.orphans.length >= MAX_ORPHANS) this.orphans.shift()
    this.orphans.push({ service, config, token })
  }

  /** Takes every orphan (to be released now). */
  take(): Orphan[] {
    return this.orphans.length === 0 ? [] : this.orphans.splice(0)
  }
}
