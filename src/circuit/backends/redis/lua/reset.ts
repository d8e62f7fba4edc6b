import { PRELUDE } from './prelude.js'

/**
 * reset: force the breaker closed, forget failures, window and backoff, and store the caller's
 * configuration (an explicit reset is how an operator settles a configuration mismatch).
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 */
export const RESET_LUA = `${PRELUDE}
cfgStr = ARGV[1]
storedDiffers = ''
iso = false
close()
return reply('ok')
`
