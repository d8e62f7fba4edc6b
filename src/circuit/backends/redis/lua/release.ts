import { PRELUDE } from './prelude.js'

/**
 * release: a probe ended without a verdict (abort, ignored error): the next caller may probe.
 * Also how a probe that may have been granted without the caller hearing of it (its admit timed
 * out on the client after the script ran) is handed back: then ARGV[5] is the token the admit
 * sent, which the lease's token starts with (`<token>:<gen>`).
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  the probe's token, or the admit's (ignored unless it is the current lease's)
 */
export const RELEASE_LUA = `${PRELUDE}
local given = ARGV[5]
tick()
if st == 'half-open' and tok ~= '' and (tok == given or string.sub(tok, 1, #given + 1) == given .. ':') then
  tok = ''
  pu = 0
  bump()
end
return reply('ok')
`
