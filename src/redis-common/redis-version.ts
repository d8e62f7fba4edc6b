import type { Cluster, Redis } from 'ioredis'

export const MIN_REDIS_MAJOR = 7

/**
 * Checks the server is Redis >= 7 (script flags, sharded pub/sub, TIME in scripts with effects
 * replication); rejects with an Error saying what was found. `owner` names the component.
 */
export async function requireRedis7(client: Redis | Cluster, owner: string): Promise<void> {
  let info: string
  try {
    info = String(await client.info('server'))
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(`${owner}: Redis is not usable: INFO server failed: ${reason}`, { cause: error })
  }
  const version = /redis_version:(\d+)\.(\d+)/.exec(info)
  if (version === null || Number(version[1]) < MIN_REDIS_MAJOR) {
    const found = version ? `${version[1]}.${version[2]}` : 'an unknown version'
    throw new Error(
      `${owner}: Redis is not usable: Redis >= ${MIN_REDIS_MAJOR}.0 is required, found ${found}`,
    )
  }
}
