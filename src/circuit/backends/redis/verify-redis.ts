import { notUsable, requireReachable, requireRedis7 } from '../../../redis-common/ready-checks.js'
import type { CircuitConfig } from '../../circuit-backend.js'
import type { BackendHealth } from '../../../redis-common/backend-health.js'
import type { BreakerCommands } from './breaker-commands.js'
import { breakerChannel, checkKey } from './redis-keys.js'
import type { RedisLink } from './redis-link.js'
import { runCheck } from './redis-scripts.js'

const OWNER = 'RedisCircuitBackend'

/** Configuration used only by `ready()` to exercise the scripts on the check key. */
const READY_CONFIG: CircuitConfig = Object.freeze({
  threshold: 1,
  recoveryMs: 1,
  maxRecoveryMs: 1,
  halfOpenSuccesses: 1,
  probeLeaseMs: 1,
})

/** The check key's TTL: it is scratch, gone a minute after the last `ready()`. */
const READY_TTL_MS = 60_000

/**
 * What `ready()` checks once the first connection attempt has settled, so a misconfigured Redis
 * fails at start-up rather than silently on the call path: Redis reachable, server version >= 7
 * (sharded pub/sub, script flags), and that this user may run the scripts (the writing ones and
 * the read-only recovery check), publish their invalidation messages, and subscribe to breaker
 * channels (ACL NOPERM otherwise). Everything happens on `<prefix>:cb:{%ready}` and its channel,
 * which no service's key can be (D7).
 */
export async function verifyRedis(
  link: RedisLink,
  health: BackendHealth,
  commands: Pick<BreakerCommands, 'script'>,
  prefix: string,
): Promise<void> {
  requireReachable(OWNER, health)
  const key = checkKey(prefix)
  const fail = (what: string, error?: unknown): never => {
    throw notUsable(OWNER, what, error)
  }
  await requireRedis7(link.cmd, OWNER)
  let publishError = ''
  try {
    const reset = await commands.script('bwCbReset', key, READY_CONFIG, [], READY_TTL_MS)
    await commands.script('bwCbAdmit', key, READY_CONFIG, ['ready'], READY_TTL_MS)
    await runCheck(link.cmd, key)
    publishError = reset.publishError
  } catch (error) {
    fail(
      'the breaker scripts cannot run on breaker keys (check the ACL: EVALSHA, EVAL, HSET, PEXPIRE, PUBLISH/SPUBLISH)',
      error,
    )
  }
  if (publishError !== '') {
    fail('the breaker scripts cannot publish invalidations (check the ACL: PUBLISH/SPUBLISH)', publishError)
  }
  try {
    await link.subscriber.probe(breakerChannel(key))
  } catch (error) {
    fail('cannot subscribe to breaker channels (check the ACL channel rules)', error)
  }
}
