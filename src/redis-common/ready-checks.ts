import type { Cluster, Redis } from 'ioredis'
import type { BackendHealth } from './backend-health.js'

export const MIN_REDIS_MAJOR = 7

/** What `ready()` rejects with when Redis answers but cannot be used: `owner` names the component. */
export function notUsable(owner: string, what: string, cause?: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause ?? '')
  return new Error(`${owner}: Redis is not usable: ${what}${reason ? `: ${reason}` : ''}`, { cause })
}

/** Rejects when the first connection failed (the component answers from its fallback meanwhile). */
export function requireReachable(owner: string, health: Pick<BackendHealth, 'state' | 'error'>): void {
  if (health.state === 'fallback') {
    throw new Error(`${owner}: Redis is unreachable: ${String(health.error)}`, { cause: health.error })
  }
}

/**
 * Checks the server is Redis >= 7 (script flags, sharded pub/sub, TIME in scripts with effects
 * replication); rejects with an Error saying what was found.
 */
export async function requireRedis7(client: Redis | Cluster, owner: string): Promise<void> {
  let info: string
  try {
    info = String(await client.info('server'))
  } catch (error) {
    throw notUsable(owner, 'INFO server failed', error)
  }
  const version = /redis_version:(\d+)\.(\d+)/.exec(info)
  if (version === null || Number(version[1]) < MIN_REDIS_MAJOR) {
    const found = version ? `${version[1]}.${version[2]}` : 'an unknown version'
    throw notUsable(owner, `Redis >= ${MIN_REDIS_MAJOR}.0 is required, found ${found}`)
  }
}
