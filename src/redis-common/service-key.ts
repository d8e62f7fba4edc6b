/**
 * Keys of the state a component keeps per service in Redis: one hash, `<prefix>:<space>:{<name>}`,
 * the encoded service name being the hash tag, so a key and its channels share one Cluster slot
 * and every script touches exactly one (no CROSSSLOT). `space` tells the components apart
 * (`cb` circuit breakers, `rl` rate limits).
 */

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

/** The service's hash in `space`: `<prefix>:<space>:{<escaped service>}`. */
export function serviceKey(prefix: string, space: string, service: string): string {
  return `${prefix}:${space}:{${escapeService(service)}}`
}

/**
 * The scratch key of `space` that `ready()` and the background checks use when no service is
 * involved: `<prefix>:<space>:{%ready}`. It has the shape of a service key (same ACL key pattern)
 * but no service can own it: `escapeService` never puts a `%` before anything but `25`, `7B`,
 * `7D` or `u`, so `ready()` never touches a real service's key (D7).
 */
export function scratchKey(prefix: string, space: string): string {
  return `${prefix}:${space}:{%ready}`
}
