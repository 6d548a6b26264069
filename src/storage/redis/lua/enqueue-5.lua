--[[
  Enqueues jobs into one pipeline: each is stored, indexed and pushed at the tail of the queue of
  its first step, unless its idempotency key already names a stored job (answered as is) or the
  pipeline holds maxQueued unfinished jobs (busy: nothing written).

  KEYS[1] jobs          HASH id -> job JSON
  KEYS[2] idem          HASH idempotency key -> id
  KEYS[3] counters      HASH (accepted, unfinished, seq)
  KEYS[4] index         ZSET id by acceptance sequence
  KEYS[5] queue prefix  queue LIST of job type t is KEYS[5] .. t (same hash tag)

  ARGV[1] maxQueued
  ARGV[2] JSON array of { id, pipeline, route, instructions (JSON text), idempotencyKey? }

  Returns one string per item, in order: "c" .. job JSON (created), "d" .. job JSON (duplicate)
  or "b" (busy).
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxQueued = tonumber(ARGV[1])
local items = cjson.decode(ARGV[2])
local out = {}

for i, item in ipairs(items) do
  local existing = false
  if item.idempotencyKey then
    local id = rcall("HGET", KEYS[2], item.idempotencyKey)
    if id then existing = rcall("HGET", KEYS[1], id) end
  end
  if existing then
    out[i] = "d" .. existing
  elseif tonumber(rcall("HGET", KEYS[3], "unfinished") or "0") >= maxQueued then
    out[i] = "b"
  else
    local job = {
      id = item.id, pipeline = item.pipeline, route = item.route, stepIndex = 0, step = item.route[1],
      status = "queued", attempts = 0, instructions = item.instructions, input = item.instructions,
      steps = "[]", idempotencyKey = item.idempotencyKey, createdAt = now, updatedAt = now,
    }
    local json = cjson.encode(job)
    rcall("HSET", KEYS[1], item.id, json)
    if item.idempotencyKey then rcall("HSET", KEYS[2], item.idempotencyKey, item.id) end
    rcall("HINCRBY", KEYS[3], "accepted", 1)
    rcall("HINCRBY", KEYS[3], "unfinished", 1)
    rcall("ZADD", KEYS[4], rcall("HINCRBY", KEYS[3], "seq", 1), item.id)
    rcall("RPUSH", KEYS[5] .. job.step, item.id)
    out[i] = "c" .. json
  end
end
return out
