import { createHash } from 'node:crypto'

/**
 * A stable key for a request: the SHA-256 (hex) of its canonical JSON, so the same request built
 * with its properties in another order gets the same key. `scope` is hashed in front of it, so the
 * same request sent with different credentials or to another endpoint never shares a result
 * (provider wrappers pass a hash of base URL + API key + organisation).
 *
 * Canonical JSON follows `JSON.stringify` (toJSON is honoured, undefined and functions are dropped
 * from objects and become null in arrays, non-finite numbers become null) with object keys sorted.
 * Values JSON would flatten to `{}` while they hold data (Map, Set) and values it cannot encode
 * (BigInt, cycles) throw a TypeError instead of producing a key that collides.
 */
export function requestKey(request: unknown, scope?: string): string {
  if (scope !== undefined && typeof scope !== 'string') {
    throw new TypeError(`requestKey: scope must be a string, got ${typeof scope}`)
  }
  const hash = createHash('sha256')
  // A quoted scope followed by ':' is never valid JSON on its own, so scoped and unscoped keys
  // cannot collide, and JSON quoting makes the scope self-delimiting.
  if (scope !== undefined) hash.update(`${JSON.stringify(scope)}:`)
  hash.update(canonicalJson(request, new Set()) ?? 'null')
  return hash.digest('hex')
}

/** Canonical JSON of `value`, or undefined where JSON would omit it. */
function canonicalJson(value: unknown, seen: Set<object>): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
    case 'bigint':
      throw new TypeError('requestKey: cannot encode a BigInt')
  }
  const object = value as Record<string, unknown> & { toJSON?: () => unknown }
  if (typeof object.toJSON === 'function') return canonicalJson(object.toJSON(), seen)
  if (object instanceof Map || object instanceof Set) {
    throw new TypeError(`requestKey: cannot encode a ${object instanceof Map ? 'Map' : 'Set'}`)
  }
  if (seen.has(object)) throw new TypeError('requestKey: cannot encode a cyclic structure')
  seen.add(object)
  let out: string
  if (Array.isArray(object)) {
    out = '['
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out += ','
      out += canonicalJson(object[i], seen) ?? 'null'
    }
    out += ']'
  } else {
    out = '{'
    let first = true
    for (const key of Object.keys(object).sort()) {
      const encoded = canonicalJson(object[key], seen)
      if (encoded === undefined) continue
      out += `${first ? '' : ','}${JSON.stringify(key)}:${encoded}`
      first = false
    }
    out += '}'
  }
  seen.delete(object)
  return out
}
