import type { CircuitBackend, CircuitConfig } from '../../circuit-backend.js'
import type { PreviousState } from './shared-view.js'
import type { CachedState } from './state-cache.js'

/**
 * Keeps the per-process breaker (the fallback's) in step with what the fleet's breaker did, through
 * the ordinary CircuitBackend operations, so that when Redis becomes unusable the fallback starts
 * from what the fleet knew — an outage stays open in every process and each probes once per
 * window, instead of every process needing `threshold` failures of its own — and so that this
 * process can put back an open state Redis loses. Runs on learned changes only, never on the hot
 * path.
 *
 * - isolated → isolate; a cooldown → the same cooldown (the longer one wins, as in Redis);
 * - an outage → the local breaker is opened as if it had seen the failures itself: failures
 *   while closed, a failed probe while half-open (so it backs off), nothing if open already;
 * - closed, when the fleet closed it (a probe succeeded or someone reset it: it was open or
 *   half-open, and not a cooldown, which ends by itself here too) → reset.
 */
export async function mirrorShared(
  local: CircuitBackend,
  service: string,
  config: CircuitConfig,
  now: CachedState,
  before: PreviousState | undefined,
): Promise<void> {
  if (now.state === 'open') {
    if (now.remainingMs === Number.POSITIVE_INFINITY) return local.isolate(service, config)
    if (now.cooling) return local.cooldown(service, config, now.remainingMs)
    return openLocally(local, service, config)
  }
  if (now.state === 'closed' && before !== undefined && before.state !== 'closed' && !before.cooling) {
    const s = await local.snapshot(service, config)
    if (s.state !== 'closed') await local.reset(service, config)
  }
}

/** Opens the local breaker the way its own calls would have: bounded by what that can take. */
async function openLocally(local: CircuitBackend, service: string, config: CircuitConfig): Promise<void> {
  const most = config.threshold + (config.failureRate?.minCalls ?? 0) + 1
  for (let i = 0; i < most; i++) {
    const s = await local.snapshot(service, config)
    if (s.state === 'open') return
    if (s.state === 'closed') {
      await local.record(service, config, { outcome: 'failure' })
      continue
    }
    const a = await local.admit(service, config)
    if (a.kind !== 'probe') return // its probe is out (this process's own): that one decides
    await local.record(service, config, { outcome: 'failure', token: a.token })
  }
}
