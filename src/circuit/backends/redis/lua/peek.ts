import { PRELUDE } from './prelude.js'

/**
 * peek: the breaker's state as it stands now, without writing: an open breaker whose time is up
 * reads as the next admit would make it (closed after a cooldown, half-open after an outage).
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 */
export const PEEK_LUA = `${PRELUDE}
if st == 'open' and not iso and now >= ou then
  if co then st = 'closed'; co = false else st = 'half-open'; tok = '' end
end
if st == 'half-open' and tok ~= '' and now >= pu then tok = '' end
bumped = false
changed = false
return reply('ok')
`
