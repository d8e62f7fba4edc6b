/**
 * check: the read-only script the background recovery check runs before the backend trusts Redis
 * again (D7). It goes through the same EVALSHA / EVAL as every breaker script and reads a breaker
 * key, so an ACL user without EVAL or EVALSHA, without access to the keys, or a shard that cannot
 * serve the key fails the check, where a PING would pass and the backend would flap. It writes
 * nothing (`flags=no-writes`: also refused any write by Redis itself).
 *   KEYS[1]  a breaker key (the one whose command failed last, or the check key)
 * Reply: the server time in ms (a number), proof that the script ran.
 */
export const CHECK_LUA = `#!lua flags=no-writes
local t = redis.call('TIME')
redis.call('HGET', KEYS[1], 'gen')
return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`
