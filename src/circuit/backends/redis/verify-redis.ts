import type { RedisLink } from './redis-link.js'
import type { ScriptName, ScriptReply } from './redis-scripts.js'

const MIN_MAJOR = 7

/**
 * What `ready()` checks, so a misconfigured Redis fails at start-up rather than silently on the
 * call path: server version >= 7 (sharded pub/sub, script flags), and that this user may run the
 * scripts on breaker keys and publish and subscribe on their channels (ACL NOPERM otherwise).
 */
export async function verifyRedis(
  link: RedisLink,
  key: string,
  channel: string,
  run: (name: ScriptName, key: string, extra: (string | number)[]) => Promise<ScriptReply>,
): Promise<void> {
  const fail = (what: string, error?: unknown): never => {
    const reason = error instanceof Error ? error.message : String(error ?? '')
    throw new Error(`RedisCircuitBackend: Redis is not usable: ${what}${reason ? `: ${reason}` : ''}`, {
      cause: error,
    })
  }
  let info = ''
  try {
    info = String(await link.cmd.info('server'))
  } catch (error) {
    fail('INFO server failed', error)
  }
  const version = /redis_version:(\d+)\.(\d+)/.exec(info)
  if (version === null || Number(version[1]) < MIN_MAJOR) {
    fail(
      `Redis >= ${MIN_MAJOR}.0 is required, found ${version ? `${version[1]}.${version[2]}` : 'an unknown version'}`,
    )
  }
  try {
    await run('bwCbReset', key, [])
    await run('bwCbAdmit', key, ['ready'])
  } catch (error) {
    fail(
      'the breaker scripts cannot run on breaker keys (check the ACL: EVALSHA, EVAL, HSET, PEXPIRE, PUBLISH/SPUBLISH)',
      error,
    )
  }
  try {
    if (link.cluster) {
      await link.sub.ssubscribe(channel)
      await link.sub.sunsubscribe(channel)
    } else {
      await link.sub.subscribe(channel)
      await link.sub.unsubscribe(channel)
    }
  } catch (error) {
    fail('cannot subscribe to breaker channels (check the ACL channel rules)', error)
  }
}
