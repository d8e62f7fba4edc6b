import { PRELUDE } from './prelude.js'

/**
 * assert: puts back an open state that Redis lost (FLUSHALL, a restart without persistence, a
 * failover to a replica that missed the write), from what the calling process knows. It applies
 * only when the loss is proven here, atomically: the hash does not exist, or its generation is
 * older than the newest one the process saw. So a breaker another process closed since (a newer
 * generation) is never reopened, and when several processes notice one loss only the first
 * writes. The new generation is above the process's, so every cache takes it.
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  the newest generation the process saw (0 if none)
 *   ARGV[6]  open time left in ms (0: probe now, as half-open), or -1 for isolated
 *   ARGV[7]  '1' when the open state is a provider's cooldown (it ends closed)
 * Reply kind: 'ok' when re-asserted, 'stale' when nothing was lost.
 */
export const ASSERT_LUA = `${PRELUDE}
local known = tonumber(ARGV[5]) or 0
local ms = tonumber(ARGV[6]) or 0
if not fresh and gen >= known then return reply('stale') end
st = 'open'
iso = ms < 0
co = (not iso) and ARGV[7] == '1'
if not iso then ou = now + ms end
tok = ''
pu = 0
ps = 0
if known > gen then gen = known end
bump()
return reply('ok')
`
