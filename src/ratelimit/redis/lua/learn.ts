import { PRELUDE } from './prelude.js'

/**
 * learn: applies what a provider reported (ARGV[5..11]: learned limits, what is left, a 429's
 * pause) and stores it. Mirrors `advance()` with an observation in src/ratelimit/budget-bucket.ts.
 *   KEYS[1]  the service's hash            ARGV[1..11] see prelude.ts
 */
export const LEARN_LUA = `${PRELUDE}
save()
return reply('ok', pauseLimit, 0, levelR, 0, levelT, 0)
`
