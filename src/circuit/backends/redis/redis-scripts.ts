import type { Cluster, Redis } from 'ioredis'
import { defineScripts as define, runScript as run } from '../../../redis-common/scripts.js'
import type { CircuitState } from '../../circuit-backend.js'
import { ADMIT_LUA } from './lua/admit.js'
import { ASSERT_LUA } from './lua/assert.js'
import { CHECK_LUA } from './lua/check.js'
import { COOLDOWN_LUA } from './lua/cooldown.js'
import { ISOLATE_LUA } from './lua/isolate.js'
import { PEEK_LUA } from './lua/peek.js'
import { RECORD_LUA } from './lua/record.js'
import { RELEASE_LUA } from './lua/release.js'
import { RENEW_LUA } from './lua/renew.js'
import { RESET_LUA } from './lua/reset.js'

/** The breaker scripts that answer a reply (see lua/prelude.ts), by command name. */
export const SCRIPTS = {
  bwCbAdmit: ADMIT_LUA,
  bwCbRecord: RECORD_LUA,
  bwCbRelease: RELEASE_LUA,
  bwCbRenew: RENEW_LUA,
  bwCbCooldown: COOLDOWN_LUA,
  bwCbIsolate: ISOLATE_LUA,
  bwCbReset: RESET_LUA,
  bwCbPeek: PEEK_LUA,
  bwCbAssert: ASSERT_LUA,
} as const

export type ScriptName = keyof typeof SCRIPTS

/** What every script answers (see lua/prelude.ts). */
export interface ScriptReply {
  readonly kind: 'allow' | 'probe' | 'deny' | 'ok' | 'stale'
  readonly gen: number
  readonly state: CircuitState
  /** Open time left, or probe lease left while half-open with a probe out; Infinity while isolated. */
  readonly remainingMs: number
  readonly failures: number
  readonly token: string
  /** The stored configuration when it differs from the caller's (the stored one was applied). */
  readonly storedConfig: string
  /** Open only for a provider's cooldown: it closes (no probe) when `remainingMs` is up. */
  readonly cooling: boolean
  /** The hash did not exist before this script ran (new service, or its state was lost). */
  readonly fresh: boolean
  /** Why the invalidation message could not be published ('' when it was, or none was due). */
  readonly publishError: string
}

/** The read-only check script's command name (see lua/check.ts); it answers a number, not a reply. */
const CHECK = 'bwCbCheck'
const DEFINED: Readonly<Record<string, string>> = Object.freeze({ ...SCRIPTS, [CHECK]: CHECK_LUA })

/** Registers every breaker script on a connection (see redis-common/scripts.ts). */
export function defineScripts(client: Redis | Cluster): void {
  define(client, DEFINED)
}

/** Runs the read-only check script on `key`; resolves with the server time it read. */
export async function runCheck(client: Redis | Cluster, key: string): Promise<number> {
  const time = Number(await run(client, CHECK, key, []))
  if (!Number.isFinite(time)) throw new Error(`unexpected check script reply: ${String(time)}`)
  return time
}

/** Runs one script on one key and parses its reply. */
export async function runScript(
  client: Redis | Cluster,
  name: ScriptName,
  key: string,
  args: readonly (string | number)[],
): Promise<ScriptReply> {
  return parseReply(await run(client, name, key, args))
}

function parseReply(raw: unknown): ScriptReply {
  if (!Array.isArray(raw) || raw.length < 10)
    throw new Error(`unexpected breaker script reply: ${String(raw)}`)
  const remaining = Number(raw[3])
  return {
    kind: String(raw[0]) as ScriptReply['kind'],
    gen: Number(raw[1]),
    state: String(raw[2]) as CircuitState,
    remainingMs: remaining < 0 ? Number.POSITIVE_INFINITY : remaining,
    failures: Number(raw[4]),
    token: String(raw[5]),
    storedConfig: String(raw[6]),
    cooling: String(raw[7]) === '1',
    fresh: String(raw[8]) === '1',
    publishError: String(raw[9]),
  }
}
