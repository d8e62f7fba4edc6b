import { PRELUDE } from './prelude.js'

/**
 * release: a probe ended without a verdict (abort, ignored error): the next caller may probe.
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  the probe's token (ignored unless it is the current lease's)
 */
export const RELEASE_LUA = `${PRELUDE}
tick()
if st == 'half-open' and tok ~= '' and tok == ARGV[5] then
  tok = ''
  pu = 0
  bump()
end
return reply('ok')
`
