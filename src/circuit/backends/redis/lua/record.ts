import { PRELUDE } from './prelude.js'

/**
 * record: a finished call's outcome.
 *   KEYS[1]  the service's hash            ARGV[1..4] see prelude.ts
 *   ARGV[5]  'success' | 'failure' | 'tally' (only flushes ARGV[8])
 *   ARGV[6]  the probe token, or '' for a call admitted while closed
 *   ARGV[7]  a random number in [0, 1] for the backoff jitter
 *   ARGV[8]  successes counted locally since the last flush (failure-rate mode; added to the window first)
 * Reply kind: 'ok', or 'stale' when the report no longer applies (a late answer from before the
 * breaker opened, or a token that is not the current probe's).
 */
export const RECORD_LUA = `${PRELUDE}
local outcome, token, rand, extra = ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]) or 0
tick()
if st == 'closed' then
  local failed = outcome == 'failure'
  local rateOpens = false
  if rateWindowMs and rateWindowMs > 0 and token == '' then
    local bucketMs = rateWindowMs / 10
    local b = math.floor(now / bucketMs)
    local calls, fails = 0, 0
    for f, v in pairs(h) do
      local kind, idx = string.match(f, '^(w[cf]):(%d+)$')
      if kind then
        idx = tonumber(idx)
        if idx <= b - 10 then
          redis.call('HDEL', key, f)
        elseif kind == 'wc' then calls = calls + tonumber(v) else fails = fails + tonumber(v) end
      end
    end
    local addCalls = extra + ((outcome == 'tally') and 0 or 1)
    local addFails = failed and 1 or 0
    calls = calls + addCalls
    fails = fails + addFails
    rateOpens = failed and calls >= rateMinCalls and fails >= rateRatio * calls
    if not rateOpens and addCalls > 0 then
      redis.call('HINCRBY', key, 'wc:' .. b, addCalls)
      if addFails > 0 then redis.call('HINCRBY', key, 'wf:' .. b, addFails) end
      changed = true
    end
  end
  if outcome == 'tally' or token ~= '' then return reply(token ~= '' and 'stale' or 'ok') end
  if not failed then
    if fl > 0 then fl = 0; bump() end
    return reply('ok')
  end
  fl = fl + 1
  changed = true
  if rateOpens or fl >= threshold then open(rand) elseif fl == 1 then bump() end
  return reply('ok')
end
if st == 'open' or token == '' or token ~= tok then return reply('stale') end
tok = ''
pu = 0
if outcome == 'failure' then
  op = op + 1
  open(rand)
else
  ps = ps + 1
  if ps >= halfOpenSuccesses then close() else bump() end
end
return reply('ok')
`
