import { invalidOption, MAX_TIMER_MS, optionalNumber, requireNumber } from '../core/validate.js'
import type { CircuitConfig } from './circuit-backend.js'
import type { CircuitOptions } from './circuit-options.js'
import { defaultMaxRecoveryMs, DEFAULT_PROBE_LEASE_MS } from './recovery-backoff.js'

/** Validates the state-machine options and resolves their defaults into the config backends apply. */
export function resolveCircuitConfig(owner: string, o: CircuitOptions): CircuitConfig {
  const threshold = requireNumber(owner, 'threshold', o.threshold, { integer: true, min: 1 })
  const recoveryMs = requireNumber(owner, 'recoveryMs', o.recoveryMs, { above: 0 })
  const maxRecoveryMs = optionalNumber(
    owner,
    'maxRecoveryMs',
    o.maxRecoveryMs,
    defaultMaxRecoveryMs(recoveryMs),
    {},
  )
  if (maxRecoveryMs < recoveryMs) {
    invalidOption(owner, 'maxRecoveryMs', `>= recoveryMs (${recoveryMs})`, maxRecoveryMs)
  }
  const halfOpenSuccesses = optionalNumber(owner, 'halfOpenSuccesses', o.halfOpenSuccesses, 1, {
    integer: true,
    min: 1,
  })
  const probeLeaseMs = optionalNumber(owner, 'probeLeaseMs', o.probeLeaseMs, DEFAULT_PROBE_LEASE_MS, {
    above: 0,
    max: MAX_TIMER_MS,
  })
  const config: CircuitConfig = { threshold, recoveryMs, maxRecoveryMs, halfOpenSuccesses, probeLeaseMs }
  const rate = o.failureRate
  if (rate === undefined) return Object.freeze(config)
  if (typeof rate !== 'object' || rate === null) {
    throw new TypeError(
      `${owner}: option "failureRate" must be an object { ratio, minCalls, windowMs }, got ${String(rate)}`,
    )
  }
  const failureRate = Object.freeze({
    ratio: requireNumber(owner, 'failureRate.ratio', rate.ratio, { above: 0, max: 1 }),
    minCalls: requireNumber(owner, 'failureRate.minCalls', rate.minCalls, { integer: true, min: 1 }),
    windowMs: requireNumber(owner, 'failureRate.windowMs', rate.windowMs, { above: 0 }),
  })
  return Object.freeze({ ...config, failureRate })
}
