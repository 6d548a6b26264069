--[[
  Retention: drops the oldest finished jobs of one pipeline beyond maxFinished, then those that
  finished more than maxAgeMs ago (Redis TIME), at most ARGV[3] of each per call. A dropped job
  leaves the jobs HASH, the index and, when it holds one, its idempotency key. Counters stay.

  KEYS[1] finished  ZSET id by finishedAt
  KEYS[2] jobs      HASH id -> job JSON
  KEYS[3] idem      HASH idempotency key -> id
  KEYS[4] index     ZSET id by acceptance sequence

  ARGV[1] maxFinished
  ARGV[2] maxAgeMs
  ARGV[3] most jobs dropped per rule in this call

  Returns the number of jobs dropped.
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[3])
local hasIdem = rcall("HLEN", KEYS[3]) > 0
local dropped = 0

local function forget(id)
  if hasIdem then
    local raw = rcall("HGET", KEYS[2], id)
    if raw then
      local key = cjson.decode(raw).idempotencyKey
      if key and rcall("HGET", KEYS[3], key) == id then rcall("HDEL", KEYS[3], key) end
    end
  end
  rcall("HDEL", KEYS[2], id)
  rcall("ZREM", KEYS[4], id)
  rcall("ZREM", KEYS[1], id)
  dropped = dropped + 1
end

local excess = math.min(rcall("ZCARD", KEYS[1]) - tonumber(ARGV[1]), limit)
if excess > 0 then
  for _, id in ipairs(rcall("ZRANGE", KEYS[1], 0, excess - 1)) do forget(id) end
end
for _, id in ipairs(rcall("ZRANGEBYSCORE", KEYS[1], "-inf", now - tonumber(ARGV[2]), "LIMIT", 0, limit)) do
  forget(id)
end
return dropped
