import type { CircuitConfig } from '../../circuit-backend.js'

/** Version tag of the stored configuration encoding (field 1 of `cfg`). */
const CONFIG_VERSION = 1

/**
 * `%`, `{`, `}`, and a UTF-16 surrogate that is not half of a pair (a lone surrogate), each matched
 * once: `/u` is deliberately absent, so the string is seen as UTF-16 code units.
 */
const ESCAPED = /[%{}]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Encodes a service name for use inside a hash tag, one-to-one, keeping ordinary names readable
 * (`openai:gpt-4o` stays as it is):
 * - `{` and `}` would end or split the tag and send the key and its channel to different Cluster
 *   slots (CROSSSLOT): they become `%7B` and `%7D`;
 * - a lone surrogate (`'svc\uD800'`) has no UTF-8 form: sent as it is, every one of them would
 *   become U+FFFD on the wire and distinct names would share a key. It becomes `%u` and its four
 *   hex digits (`%uD800`); a well-formed pair stays as it is (valid UTF-8);
 * - `%` itself becomes `%25`, so every `%` in the result starts an escape and the mapping can be
 *   read back unambiguously;
 * - the empty name becomes `%` alone (an empty tag `{}` is no tag at all), which no other name
 *   produces.
 */
export function escapeService(service: string): string {
  if (service === '') return '%'
  return service.replace(ESCAPED, (c) => {
    if (c === '%') return '%25'
    if (c === '{') return '%7B'
    if (c === '}') return '%7D'
    return `%u${c.charCodeAt(0).toString(16).toUpperCase()}`
  })
}

/** The service's hash: `<prefix>:cb:{<escaped service>}`. */
export function breakerKey(prefix: string, service: string): string {
  return `${prefix}:cb:{${escapeService(service)}}`
}

/**
 * The key `ready()` and the recovery check use when no service is involved:
 * `<prefix>:cb:{%ready}`. It has the shape of a breaker key (same ACL key pattern, its own hash
 * tag so its channels share its slot) but no service can own it: `escapeService` never puts a
 * `%` before anything but `25`, `7B`, `7D` or `u`.
 */
export function checkKey(prefix: string): string {
  return `${prefix}:cb:{%ready}`
}

/** The service's invalidation channel: same hash tag as its key, so SPUBLISH lands on its shard. */
export function breakerChannel(key: string): string {
  return `${key}:events`
}

/**
 * The channel the recovery check publishes on to prove PUBLISH / SPUBLISH is allowed: same hash
 * tag (same shard) as `key`, but no process subscribes to it, so nobody receives the message.
 */
export function checkChannel(key: string): string {
  return `${key}:check`
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
