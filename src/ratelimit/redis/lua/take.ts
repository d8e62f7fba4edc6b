import { PRELUDE } from './prelude.js'

/**
 * take: budget for the first waiting call (`need`: granted whole, at once or reserved within
 * maxDelay, or not at all), reserved for those queued behind it as far as ready by then, plus a
 * spare lease from what is there now (never during a pause, at most half of what is left). Mirrors
 * `take()` in src/ratelimit/budget-bucket.ts. Also notes the calling process as active.
 *   KEYS[1]    the service's hash           ARGV[1..11] see prelude.ts
 *   ARGV[12]   need: requests               ARGV[13] need: tokens
 *   ARGV[14]   queued: requests             ARGV[15] queued: tokens
 *   ARGV[16]   spare: requests              ARGV[17] spare: tokens
 *   ARGV[18]   given back: requests         ARGV[19] given back: tokens (negative: owed)
 *   ARGV[20]   the longest the first call may wait, in ms
 *   ARGV[21]   the calling process's id     ARGV[22] how long a process counts as active, in ms
 */
export const TAKE_LUA = `${PRELUDE}
local me = 'p:' .. ARGV[21]
h[me] = num(now)
local activeFrom = now - tonumber(ARGV[22])
for field, value in pairs(h) do
  if string.sub(field, 1, 2) == 'p:' then
    if tonumber(value) >= activeFrom then processes = processes + 1 else redis.call('HDEL', key, field) end
  end
end
redis.call('HSET', key, me, num(now))

local function give(level, limit, amount)
  if level == nil then return nil end
  return math.min(limit, level + amount)
end
levelR = give(levelR, limitR, tonumber(ARGV[18]))
levelT = give(levelT, limitT, tonumber(ARGV[19]))

local function atPauseEnd(level, limit)
  if level == nil or pauseMs <= 0 then return level end
  return math.min(limit, level + pauseMs * limit / windowMs)
end
local function beforePause(level, limit)
  if level == nil or pauseMs <= 0 then return level end
  return level - pauseMs * limit / windowMs
end
local endR, endT = atPauseEnd(levelR, limitR), atPauseEnd(levelT, limitT)

local function waitFor(level, limit, want)
  if level == nil or want <= 0 then return 0 end
  if want > limit then return -1 end
  if level >= want then return 0 end
  return (want - level) * windowMs / limit
end
local needR, needT = tonumber(ARGV[12]), tonumber(ARGV[13])
local waitR, waitT = waitFor(endR, limitR, needR), waitFor(endT, limitT, needT)
if waitR < 0 or waitT < 0 then
  save()
  local which = 'tokens'
  if waitR < 0 then which = 'requests' end
  return reply('never', which, -1, levelR, 0, levelT, 0)
end
local refillWait = math.max(waitR, waitT)
local limit = 'requests'
if pauseMs > 0 and pauseMs >= refillWait then limit = pauseLimit elseif waitT > waitR then limit = 'tokens' end
local wait = pauseMs + refillWait
local maxDelay = tonumber(ARGV[20])
if wait > maxDelay then
  save()
  return reply('wait', limit, wait, levelR, 0, levelT, 0)
end

local allowMs = maxDelay - pauseMs
-- No spare during a pause: nothing would be ready before it ends anyway.
local spareR, spareT = tonumber(ARGV[16]), tonumber(ARGV[17])
if pauseMs > 0 then spareR, spareT = 0, 0 end
local function grant(level, limitV, need, queued, spare)
  if level == nil then return nil, need + queued + spare end
  local left = level - need
  local q = 0
  if queued > 0 then q = math.max(0, math.min(queued, left + allowMs * limitV / windowMs)) end
  left = left - q
  local sp = math.max(0, math.min(spare, left * 0.5))
  return left - sp, need + q + sp
end
local schedR, schedT = beforePause(endR, limitR), beforePause(endT, limitT)
local newR, grR = grant(endR, limitR, needR, tonumber(ARGV[14]), spareR)
local newT, grT = grant(endT, limitT, needT, tonumber(ARGV[15]), spareT)
levelR = beforePause(newR, limitR)
levelT = beforePause(newT, limitT)
save()
return reply('ok', limit, wait, schedR, grR, schedT, grT)
`
