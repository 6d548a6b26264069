--[[
  Prepended (by scripts.ts, after _key-left.lua) to release and reclaim, where a lease ends
  without a result. A job a cancel was asked for while it ran (`cancelRequestedAt`, see
  cancel-6.lua) is not requeued: it becomes `cancelled` (final), its place under its concurrency
  key, if it held one, is given back, and nothing else is counted. Any other job goes back to the
  head of its queue (or behind its concurrency key) with the error given (`queueAtLeaseEnd`).

  keys: the caller's KEYS (1 jobs HASH, 4 counters HASH, 5 queue prefix, 6 finished ZSET).
]]
local CANCELLED_WHILE_RUNNING = '{"name":"CancelledError","code":"CANCELLED","message":"the job was cancelled while it ran","retryable":false}'

local function cancelAtLeaseEnd(keys, job, now)
  keyLeft(keys[5], job)
  job.status = "cancelled"
  setData(keys[1], job.id, "e", CANCELLED_WHILE_RUNNING)
  job.cancelRequestedAt = nil
  job.workerId = nil
  job.leaseExpiresAt = nil
  job.dueAt = nil
  job.updatedAt = now
  job.finishedAt = now
  redis.call("HSET", keys[1], job.id, cjson.encode(job))
  redis.call("ZADD", keys[6], now, job.id)
  redis.call("HINCRBY", keys[4], "unfinished", -1)
  redis.call("HINCRBY", keys[4], "cancelled", 1)
  redis.call("HINCRBY", keys[4], "step:" .. job.step .. ":cancelled", 1)
end

local function queueAtLeaseEnd(keys, job, errorText, now)
  job.status = "queued"
  setData(keys[1], job.id, "e", errorText)
  job.workerId = nil
  job.leaseExpiresAt = nil
  job.updatedAt = now
  local held = keyBackInLine(keys[5], keys[4], job)
  redis.call("HSET", keys[1], job.id, cjson.encode(job))
  if not held then pushHead(keys[5], job, job.id) end
end
