import type { CircuitConfig } from '../../circuit-backend.js'
import type { BackendHealth } from './backend-health.js'
import type { BreakerCommands } from './breaker-commands.js'
import { breakerChannel, breakerKey } from './redis-keys.js'
import type { RedisLink } from './redis-link.js'

const MIN_MAJOR = 7

/** Configuration used only by `ready()` to exercise the scripts on a scratch key. */
const READY_CONFIG: CircuitConfig = Object.freeze({
  threshold: 1,
  recoveryMs: 1,
  maxRecoveryMs: 1,
  halfOpenSuccesses: 1,
  probeLeaseMs: 1,
})

/**
 * What `ready()` checks once the first connection attempt has settled, so a misconfigured Redis
 * fails at start-up rather than silently on the call path: Redis reachable, server version >= 7
 * (sharded pub/sub, script flags), and that this user may run the scripts on breaker keys and
 * publish and subscribe on their channels (ACL NOPERM otherwise).
 */
export async function verifyRedis(
  link: RedisLink,
  health: BackendHealth,
  commands: Pick<BreakerCommands, 'script'>,
  prefix: string,
): Promise<void> {
  if (health.state === 'fallback') {
    throw new Error(`RedisCircuitBackend: Redis is unreachable: ${String(health.error)}`, {
      cause: health.error,
    })
  }
  const key = breakerKey(prefix, '__ready__')
  const channel = breakerChannel(key)
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
    await commands.script('bwCbReset', key, READY_CONFIG, [])
    await commands.script('bwCbAdmit', key, READY_CONFIG, ['ready'])
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
