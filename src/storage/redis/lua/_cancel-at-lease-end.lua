--[[
  Prepended (by scripts.ts, after _key-left.lua) to release and reclaim, where a lease ends
  without a result (`endLease`), and to cancel-6.lua (`cancelNow`). A job a cancel was asked for
  while it ran (`cancelRequestedAt`, see cancel-6.lua) is not requeued: it becomes `cancelled`
  (final), its place under its concurrency key, if it held one, is given back, and nothing else
  is counted. Any other job goes back to the head of its queue (or behind its concurrency key)
  with the error given.

  keys: the caller's KEYS (1 jobs HASH, 4 counters HASH, 5 queue prefix, 6 finished ZSET).
]]
local CANCELLED_WHILE_RUNNING = '{"name":"CancelledError","code":"CANCELLED","message":"the job was cancelled while it ran","retryable":false}'

-- Ends `job` cancelled now, with `errorText` as its error: its record is written, it enters the
-- finished ZSET and the counters count it. Returns its record JSON.
local function cancelNow(jobs, finished, counters, job, errorText, now)
  job.status = "cancelled"
  setData(jobs, job.id, "e", errorText)
  job.runAt = nil
  job.updatedAt = now
  job.finishedAt = now
  local json = cjson.encode(job)
  redis.call("HSET", jobs, job.id, json)
  redis.call("ZADD", finished, now, job.id)
  redis.call("HINCRBY", counters, "unfinished", -1)
  redis.call("HINCRBY", counters, "cancelled", 1)
  redis.call("HINCRBY", counters, "step:" .. job.step .. ":cancelled", 1)
  return json
end

-- The lease of a running `job` ended without a result (the caller dropped its lease entry).
local function endLease(keys, job, errorText, now)
  redis.call("HINCRBY", keys[4], "step:" .. job.step .. ":running", -1)
  job.workerId = nil
  job.leaseExpiresAt = nil
  if job.cancelRequestedAt then
    keyLeft(keys[5], job)
    job.cancelRequestedAt = nil
    job.dueAt = nil
    cancelNow(keys[1], keys[6], keys[4], job, CANCELLED_WHILE_RUNNING, now)
    return
  end
  job.status = "queued"
  setData(keys[1], job.id, "e", errorText)
  job.updatedAt = now
  local held = keyBackInLine(keys[5], keys[4], job)
  redis.call("HSET", keys[1], job.id, cjson.encode(job))
  if not held then pushHead(keys[5], job, job.id) end
end
