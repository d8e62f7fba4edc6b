import { createHash, randomUUID } from 'node:crypto'

/**
 * The default dedupe scope of a client: a SHA-256 of its base URL and credentials, so identical
 * requests from two tenants never share a result. Credentials are read on every call (a key can be
 * rotated on the client) but hashed only when they change.
 */
export function clientScope(read: () => readonly unknown[]): () => string {
  let lastRaw: string | undefined
  let lastHash = ''
  // A client with no readable credential (a key from a function, auth in headers) must not share
  // a scope with another such client: it gets a scope of its own.
  const own = randomUUID()
  return () => {
    const parts = read()
    const credentialed = parts.slice(1).some((p) => typeof p === 'string' && p !== '')
    const raw = JSON.stringify(credentialed ? parts : [...parts, own])
    if (raw !== lastRaw) {
      lastRaw = raw
      lastHash = createHash('sha256').update(raw).digest('hex')
    }
    return lastHash
  }
}
