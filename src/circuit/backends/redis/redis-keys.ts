import type { CircuitConfig } from '../../circuit-backend.js'

/** Version tag of the stored configuration encoding (field 1 of `cfg`). */
const CONFIG_VERSION = 1

/**
 * Escapes a service name for use inside a hash tag: `{` and `}` would end or split the tag and
 * send the key and its channel to different Cluster slots (CROSSSLOT). `%` is escaped too so the
 * mapping stays one-to-one; an empty name becomes `%` (an empty tag `{}` is no tag at all).
 */
export function escapeService(service: string): string {
  if (service === '') return '%'
  return service.replace(/[%{}]/g, (c) => (c === '%' ? '%25' : c === '{' ? '%7B' : '%7D'))
}

/** The service's hash: `<prefix>:cb:{<escaped service>}`. */
export function breakerKey(prefix: string, service: string): string {
  return `${prefix}:cb:{${escapeService(service)}}`
}

/** The service's invalidation channel: same hash tag as its key, so SPUBLISH lands on its shard. */
export function breakerChannel(key: string): string {
  return `${key}:events`
}

/** Encodes a configuration as the comma-separated numbers the Lua prelude parses. */
export function encodeConfig(c: CircuitConfig): string {
  const rate = c.failureRate
  return [
    CONFIG_VERSION,
    c.threshold,
    c.recoveryMs,
    c.maxRecoveryMs,
    c.halfOpenSuccesses,
    c.probeLeaseMs,
    rate?.ratio ?? 0,
    rate?.minCalls ?? 0,
    rate?.windowMs ?? 0,
  ].join(',')
}

const encoded = new WeakMap<CircuitConfig, string>()

/** `encodeConfig`, memoised per config object (guards hand the same frozen object every call). */
export function encodedConfig(c: CircuitConfig): string {
  let e = encoded.get(c)
  if (e === undefined) encoded.set(c, (e = encodeConfig(c)))
  return e
}

/** Reads an encoded configuration back (for mismatch reports); undefined when it is not ours. */
export function decodeConfig(encoded: string): CircuitConfig | undefined {
  const n = encoded.split(',').map(Number)
  if (n.length !== 9 || n.some((x) => !Number.isFinite(x)) || n[0] !== CONFIG_VERSION) return undefined
  const [, threshold, recoveryMs, maxRecoveryMs, halfOpenSuccesses, probeLeaseMs, ratio, minCalls, windowMs] =
    n as [number, number, number, number, number, number, number, number, number]
  const base = { threshold, recoveryMs, maxRecoveryMs, halfOpenSuccesses, probeLeaseMs }
  return windowMs > 0 ? { ...base, failureRate: { ratio, minCalls, windowMs } } : base
}
