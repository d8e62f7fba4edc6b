import type { CircuitConfig } from './circuit-backend.js'

/** `maxRecoveryMs` defaults to this many times `recoveryMs`… */
export const DEFAULT_MAX_RECOVERY_FACTOR = 10
/** …but never more than this (5 minutes), unless set explicitly. */
export const DEFAULT_MAX_RECOVERY_CAP_MS = 300_000
/** Default lifetime of a half-open probe's lease (renewed while the probe runs). */
export const DEFAULT_PROBE_LEASE_MS = 60_000

/**
 * The default cap of the backed-off open time: `10 × recoveryMs`, at most 5 minutes, and never less
 * than `recoveryMs` itself.
 */
export function defaultMaxRecoveryMs(recoveryMs: number): number {
  return Math.max(recoveryMs, Math.min(recoveryMs * DEFAULT_MAX_RECOVERY_FACTOR, DEFAULT_MAX_RECOVERY_CAP_MS))
}

/**
 * How long the breaker stays open on its `opens`-th consecutive opening (0 = opened from closed).
 *
 * - `opens = 0`: exactly `recoveryMs`, so the first recovery comes when the user configured it.
 * - `opens = k ≥ 1` (a probe failed k times in a row): "equal jitter" over the doubled step,
 *   uniformly in `[recoveryMs · 2^(k-1), recoveryMs · 2^k]` — never shorter than the previous
 *   step, never longer than double it — so a fleet of breakers that opened together does not
 *   probe together.
 * - The result never exceeds `maxRecoveryMs`.
 *
 * `random` is a number in [0, 1] (values outside are clamped). Pure: the Redis Lua scripts and the
 * reference model compute the same value from the same inputs.
 */
export function openDurationMs(config: CircuitConfig, opens: number, random: number): number {
  const { recoveryMs, maxRecoveryMs } = config
  if (opens <= 0) return Math.min(recoveryMs, maxRecoveryMs)
  // 2^1024 is Infinity and Math.min handles it: no overflow after many failed probes.
  const step = recoveryMs * 2 ** opens
  const r = random < 0 ? 0 : random > 1 ? 1 : random
  return Math.min(step / 2 + (step / 2) * r, maxRecoveryMs)
}
