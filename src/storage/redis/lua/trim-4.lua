--[[
  Retention: drops the oldest finished jobs of one pipeline beyond maxFinished, then those that
  finished more than maxAgeMs ago (Redis TIME), at most ARGV[3] of each per call. A dropped job
  leaves the jobs HASH, the index and, when it holds one, its idempotency key; its caller data
  HASH is deleted. Counters stay.

  KEYS[1] finished  ZSET id by finishedAt
  KEYS[2] jobs      HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[3] idem      HASH idempotency key -> id
  KEYS[4] index     ZSET id by acceptance sequence

  ARGV[1] maxFinished
  ARGV[2] maxAgeMs
  ARGV[3] most jobs dropped per rule in this call

  Returns the number of jobs dropped.
]]
local rcall = redis.call
local now = nowMs()
local limit = tonumber(ARGV[3])
local hasIdem = rcall("HLEN", KEYS[3]) > 0
local dropped = 0

-- Drops `ids` (already out of nothing else): idempotency keys one by one when the pipeline has
-- any, then the job hash, the index and the finished ZSET with one variadic command per chunk.
local CHUNK = 500

-- A record's idempotency key. Most keys hold no quote or backslash: those are read from the JSON
-- text as they are (cjson-decoding the whole record costs several times more); others, decoded.
-- The pattern cannot match inside a string value: there every quote is escaped.
local function idempotencyKeyOf(raw)
  local key = string.match(raw, '"idempotencyKey":"([^"\\]*)"')
  if key then return key end
  if string.find(raw, '"idempotencyKey":', 1, true) == nil then return nil end
  return cjson.decode(raw).idempotencyKey
end

local function forget(ids)
  if #ids == 0 then return end
  if hasIdem then
    for _, id in ipairs(ids) do
      local raw = rcall("HGET", KEYS[2], id)
      if raw then
        local key = idempotencyKeyOf(raw)
        if key and rcall("HGET", KEYS[3], key) == id then rcall("HDEL", KEYS[3], key) end
      end
    end
  end
  for from = 1, #ids, CHUNK do
    local to = math.min(from + CHUNK - 1, #ids)
    local data = {}
    for i = from, to do data[#data + 1] = dataKey(KEYS[2], ids[i]) end
    rcall("DEL", unpack(data))
    rcall("HDEL", KEYS[2], unpack(ids, from, to))
    rcall("ZREM", KEYS[4], unpack(ids, from, to))
    rcall("ZREM", KEYS[1], unpack(ids, from, to))
  end
  dropped = dropped + #ids
end

local excess = math.min(rcall("ZCARD", KEYS[1]) - tonumber(ARGV[1]), limit)
if excess > 0 then forget(rcall("ZRANGE", KEYS[1], 0, excess - 1)) end
forget(rcall("ZRANGEBYSCORE", KEYS[1], "-inf", now - tonumber(ARGV[2]), "LIMIT", 0, limit))
return dropped
