import { PRELUDE } from './prelude.js'

/**
 * renew: a held probe (a stream) is still running: extend its lease by probeLeaseMs from now.
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  the probe's token (ignored unless it is the current lease's)
 */
export const RENEW_LUA = `${PRELUDE}
tick()
if st == 'half-open' and tok ~= '' and tok == ARGV[5] then
  pu = now + probeLeaseMs
  changed = true
end
return reply('ok')
`
