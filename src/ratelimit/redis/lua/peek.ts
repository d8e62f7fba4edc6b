import { PRELUDE } from './prelude.js'

/**
 * peek: the budget as it stands now, without writing (the callers send no observation).
 *   KEYS[1]  the service's hash            ARGV[1..11] see prelude.ts
 */
export const PEEK_LUA = `${PRELUDE}
return reply('ok', pauseLimit, 0, levelR, 0, levelT, 0)
`
