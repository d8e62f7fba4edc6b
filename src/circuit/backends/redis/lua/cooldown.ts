import { PRELUDE } from './prelude.js'

/**
 * cooldown: open the service for at least ARGV[5] ms (capped at maxRecoveryMs) across the fleet,
 * without counting a failure or a backoff step (D6). An isolated breaker is left as it is; an open
 * one stays open for the longer of the two; a running probe's lease is dropped.
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  the cooldown in ms
 */
export const COOLDOWN_LUA = `${PRELUDE}
local ms = tonumber(ARGV[5])
tick()
if iso or not (ms > 0) then return reply('ok') end
local untilMs = now + math.min(ms, maxRecoveryMs)
if st == 'open' then
  if untilMs > ou then ou = untilMs; bump() end
  return reply('ok')
end
st = 'open'
ou = untilMs
tok = ''
pu = 0
ps = 0
bump()
return reply('ok')
`
