/**
 * Lua shared by every breaker script: it reads the service's hash, the configuration, Redis server
 * time, and holds the state-machine rules of `src/circuit/breaker-state.ts`, which these scripts
 * mirror rule for rule. Each script is this prelude followed by its own body, so a script is still
 * one self-contained EVAL touching exactly one key (the service's hash).
 *
 * Common arguments (every script):
 *   KEYS[1]  the service's hash, `<prefix>:cb:{<service>}`
 *   ARGV[1]  the caller's configuration, encoded by `encodeConfig` (stored on first write; a
 *            different stored one wins and is returned so the caller can report the mismatch)
 *   ARGV[2]  key TTL in ms (PEXPIRE on every write)
 *   ARGV[3]  'PUBLISH' or 'SPUBLISH' (Cluster), used for the invalidation message
 *   ARGV[4]  invalidation channel (same hash tag as the key)
 *
 * Hash fields: cfg, st (closed|open|half-open), gen, fl (consecutive failures), op (opens: the
 * backoff step), ou (open until, server ms), iso (1 = isolated), co (1 = open for a provider's
 * cooldown: it closes, not half-opens, when `ou` passes), tok (probe token), pu (probe lease until,
 * server ms), ps (probe successes), wc:<bucket> / wf:<bucket> (failure-rate window).
 *
 * Reply (every script): { kind, gen, state, remainingMs, failures, token, storedConfigIfDifferent,
 * cooling ('1' | '0'), fresh ('1' when the hash did not exist before this script), publishError
 * ('' unless the invalidation message could not be sent) }, where remainingMs is the open time
 * left, or the probe lease left while half-open with a probe out, or -1 while isolated. Only
 * durations leave Redis: no process clock is read or stored.
 *
 * `gen` starts at the server time in ms when the hash is created and grows by one on every change
 * that matters to a cached admission (state, probe taken or freed, failures 0 <-> non-zero, the
 * end of a cooldown), so it keeps growing across a key's expiry; each such change is published as
 * `gen|state|remaining|failures|cooling`. PUBLISH runs under pcall: a refused message (ACL) must
 * not undo the write silently, so the write stands and the error goes back in the reply, where the
 * backend counts it as a backend error.
 */
export const PRELUDE = `
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('HGETALL', key)
local h = {}
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
local fresh = h.st == nil

local cfgStr = ARGV[1]
local storedDiffers = ''
if h.cfg and h.cfg ~= ARGV[1] then cfgStr = h.cfg; storedDiffers = h.cfg end
local cf = {}
for part in string.gmatch(cfgStr, '[^,]+') do cf[#cf + 1] = tonumber(part) end
local threshold, recoveryMs, maxRecoveryMs, halfOpenSuccesses, probeLeaseMs = cf[2], cf[3], cf[4], cf[5], cf[6]
local rateRatio, rateMinCalls, rateWindowMs = cf[7], cf[8], cf[9]

local st = h.st or 'closed'
local gen = tonumber(h.gen) or now
local fl = tonumber(h.fl) or 0
local op = tonumber(h.op) or 0
local ou = tonumber(h.ou) or 0
local iso = h.iso == '1'
local co = h.co == '1'
local tok = h.tok or ''
local pu = tonumber(h.pu) or 0
local ps = tonumber(h.ps) or 0
local changed = false
local bumped = false
local dropWindow = false
local publishError = ''

local function int(n) return string.format('%d', math.floor(n)) end
local function bump() gen = gen + 1; bumped = true; changed = true end

local function clearWindow() dropWindow = true end

local function openDuration(rand)
  if op <= 0 then return math.min(recoveryMs, maxRecoveryMs) end
  local step = recoveryMs * (2 ^ op)
  if rand < 0 then rand = 0 elseif rand > 1 then rand = 1 end
  return math.min(step / 2 + (step / 2) * rand, maxRecoveryMs)
end

local function open(rand)
  st = 'open'; co = false; ou = now + openDuration(rand); tok = ''; pu = 0; ps = 0
  clearWindow(); bump()
end

local function close()
  st = 'closed'; co = false; fl = 0; op = 0; tok = ''; pu = 0; ps = 0
  clearWindow(); bump()
end

-- Time passes: open -> half-open once the open time is up (closed again after a cooldown, with
-- failures and window kept); an expired lease is freed.
local function tick()
  if st == 'open' then
    if iso or now < ou then return end
    if co then st = 'closed'; co = false; bump(); return end
    st = 'half-open'; tok = ''; ps = 0; bump()
  elseif st == 'half-open' and tok ~= '' and now >= pu then
    tok = ''; bump()
  end
end

local function remaining()
  if st == 'open' then
    if iso then return -1 end
    return math.max(0, ou - now)
  end
  if st == 'half-open' and tok ~= '' then return math.max(0, pu - now) end
  return 0
end

local function save()
  if changed then
    redis.call('HSET', key, 'cfg', cfgStr, 'st', st, 'gen', int(gen), 'fl', int(fl), 'op', int(op),
      'ou', int(ou), 'iso', iso and '1' or '0', 'co', co and '1' or '0', 'tok', tok, 'pu', int(pu),
      'ps', int(ps))
    if dropWindow then
      for _, f in ipairs(redis.call('HKEYS', key)) do
        if string.sub(f, 1, 3) == 'wc:' or string.sub(f, 1, 3) == 'wf:' then redis.call('HDEL', key, f) end
      end
    end
    redis.call('PEXPIRE', key, ARGV[2])
  end
  if bumped then
    local message = int(gen) .. '|' .. st .. '|' .. int(remaining()) .. '|' .. int(fl) .. '|' .. (co and '1' or '0')
    local sent = redis.pcall(ARGV[3], ARGV[4], message)
    if type(sent) == 'table' and sent.err then publishError = sent.err end
  end
end

local function reply(kind, token)
  save()
  return { kind, int(gen), st, int(remaining()), int(fl), token or '', storedDiffers,
    co and '1' or '0', fresh and '1' or '0', publishError }
end
`
