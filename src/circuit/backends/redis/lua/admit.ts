import { PRELUDE } from './prelude.js'

/**
 * admit: may this call run?
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  a fresh random token, kept (suffixed with the generation) if this call gets the probe
 * Reply kind: 'allow' (closed) | 'probe' (token = the lease's token) | 'deny' (remainingMs).
 * A closed breaker, or a key that does not exist, is answered without any write.
 */
export const ADMIT_LUA = `${PRELUDE}
tick()
if st == 'closed' then return reply('allow') end
if st == 'open' then return reply('deny') end
if tok ~= '' then return reply('deny') end
bump()
tok = ARGV[5] .. ':' .. int(gen)
pu = now + probeLeaseMs
return reply('probe', tok)
`
