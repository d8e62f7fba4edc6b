/**
 * Deletes the in-flight marker only if the caller still holds it, so a holder whose marker expired
 * (and was taken by another process) never removes the newer one.
 *
 * KEYS[1] marker key
 * ARGV[1] holder token
 * Returns 1 when deleted, 0 otherwise.
 */
export const RELEASE_MARKER_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`
