/**
 * Lua shared by every rate limit script: it reads the service's hash and Redis server time, and
 * brings the budget up to now the way `advance()` in src/ratelimit/budget-bucket.ts does, which
 * these scripts mirror step for step (learned limits — a lower one lowers the level by as much —,
 * refill, what the provider says is left, a
 * 429's pause). Each script is this prelude followed by its own body, so a script is still one
 * self-contained EVAL touching exactly one key.
 *
 * Common arguments (every script):
 *   KEYS[1]   the service's hash, `<prefix>:rl:{<service>}`
 *   ARGV[1]   configured requests per window ('0': none)
 *   ARGV[2]   configured tokens per window ('0': none)
 *   ARGV[3]   window in ms
 *   ARGV[4]   key TTL in ms (PEXPIRE on every write)
 *   ARGV[5]   observed request limit ('0': none)          ARGV[6]  observed token limit
 *   ARGV[7]   observed requests left ('': none)           ARGV[8]  observed tokens left
 *   ARGV[9]   how long ago that was observed, in ms
 *   ARGV[10]  a 429's pause in ms ('0': none)             ARGV[11] the budget it was about
 *
 * Hash fields: rl, tl (request and token levels, absent while no limit applies; negative while
 * calls wait on reserved budget), t (server ms of the levels), lr, lt (learned limits, 0: none),
 * pu (paused until, server ms), pl (the budget the pause was about), p:<id> (a process's last take).
 *
 * Reply (every script): { kind, limit, waitMs, levelR, grantedR, limitR, levelT, grantedT, limitT,
 * pauseMs, processes }, numbers as strings; waitMs -1 means never. Only durations and amounts
 * leave Redis: no process clock is read or stored.
 */
export const PRELUDE = `
local key = KEYS[1]
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000 + tonumber(tm[2]) / 1000
local raw = redis.call('HGETALL', key)
local h = {}
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
local windowMs = tonumber(ARGV[3])

local function limitOf(configured, learned)
  if configured > 0 and learned > 0 then return math.min(configured, learned) end
  if configured > 0 then return configured end
  return learned
end

local learnedR = tonumber(h.lr) or 0
local learnedT = tonumber(h.lt) or 0
local previousR = limitOf(tonumber(ARGV[1]), learnedR)
local previousT = limitOf(tonumber(ARGV[2]), learnedT)
if tonumber(ARGV[5]) > 0 then learnedR = tonumber(ARGV[5]) end
if tonumber(ARGV[6]) > 0 then learnedT = tonumber(ARGV[6]) end
local limitR = limitOf(tonumber(ARGV[1]), learnedR)
local limitT = limitOf(tonumber(ARGV[2]), learnedT)

-- A limit in force that drops keeps what was used of the old one used.
local function lowered(level, previous, limit)
  if level == nil or previous <= 0 or limit >= previous then return level end
  return tonumber(level) - (previous - limit)
end

local elapsed = math.max(0, now - (tonumber(h.t) or now))
local function refill(level, limit)
  if limit <= 0 then return nil end
  if level == nil then return limit end
  return math.min(limit, tonumber(level) + elapsed * limit / windowMs)
end
local levelR = refill(lowered(h.rl, previousR, limitR), limitR)
local levelT = refill(lowered(h.tl, previousT, limitT), limitT)

local age = tonumber(ARGV[9])
local function tighten(level, limit, remaining)
  if level == nil or remaining == '' then return level end
  return math.min(level, math.min(limit, tonumber(remaining) + age * limit / windowMs))
end
levelR = tighten(levelR, limitR, ARGV[7])
levelT = tighten(levelT, limitT, ARGV[8])

local pausedUntil = tonumber(h.pu) or 0
local pauseLimit = h.pl or 'requests'
local pauseArg = tonumber(ARGV[10])
if pauseArg > 0 and now + pauseArg > pausedUntil then
  pausedUntil = now + pauseArg
  pauseLimit = ARGV[11]
end
local pauseMs = math.max(0, pausedUntil - now)
local processes = 0

local function num(x) return string.format('%.17g', x) end

local function save()
  local fields = { 't', num(now), 'lr', num(learnedR), 'lt', num(learnedT), 'pu', num(pausedUntil), 'pl', pauseLimit }
  if levelR == nil then redis.call('HDEL', key, 'rl') else fields[#fields + 1] = 'rl'; fields[#fields + 1] = num(levelR) end
  if levelT == nil then redis.call('HDEL', key, 'tl') else fields[#fields + 1] = 'tl'; fields[#fields + 1] = num(levelT) end
  redis.call('HSET', key, unpack(fields))
  redis.call('PEXPIRE', key, ARGV[4])
end

local function reply(kind, limit, waitMs, lvR, grR, lvT, grT)
  local limR, limT = 0, 0
  if levelR ~= nil then limR = limitR end
  if levelT ~= nil then limT = limitT end
  return { kind, limit, num(waitMs), num(lvR or 0), num(grR), num(limR), num(lvT or 0), num(grT), num(limT),
    num(pauseMs), tostring(processes) }
end
`
