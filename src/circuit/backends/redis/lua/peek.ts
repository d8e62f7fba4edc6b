import { PRELUDE } from './prelude.js'

/**
 * peek: the breaker's state as it stands now, without writing (an open breaker whose time is up
 * reads as half-open, as the next admit would make it).
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 */
export const PEEK_LUA = `${PRELUDE}
if st == 'open' and not iso and now >= ou then st = 'half-open'; tok = '' end
if st == 'half-open' and tok ~= '' and now >= pu then tok = '' end
bumped = false
changed = false
return reply('ok')
`
