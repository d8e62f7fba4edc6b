import { PRELUDE } from './prelude.js'

/**
 * isolate: force the breaker open until reset (no longer a cooldown, if it was one).
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 */
export const ISOLATE_LUA = `${PRELUDE}
st = 'open'
iso = true
co = false
tok = ''
pu = 0
ps = 0
bump()
return reply('ok')
`
