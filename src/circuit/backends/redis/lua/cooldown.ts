import { PRELUDE } from './prelude.js'

/**
 * cooldown: hold the service back for at least ARGV[5] ms (capped at maxRecoveryMs) across the
 * fleet, without counting a failure or a backoff step (D6, rule 5 of breaker-state.ts). A closed
 * breaker opens marked cooling (co): when the time is up it is closed again, failures and window
 * kept, with no probe gate. An open one stays open for the longer of the two and keeps its kind; a
 * half-open one drops its probe and reopens as an outage, so it still probes afterwards. An
 * isolated breaker is left as it is.
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
co = st == 'closed'
st = 'open'
ou = untilMs
tok = ''
pu = 0
ps = 0
bump()
return reply('ok')
`
