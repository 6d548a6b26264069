--[[
  Forgets a finished (succeeded, dead or cancelled) job: its record and caller data, its places in the finished and index
  ZSETs and its idempotency key. A dead (cancelled) job forgotten is no longer counted as dead
  (cancelled) now.

  KEYS[1] jobs      HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] finished  ZSET id by finishedAt
  KEYS[3] index     ZSET id by acceptance sequence
  KEYS[4] idem      HASH idempotency key -> job id
  KEYS[5] counters  HASH (dead, cancelled)

  ARGV[1] job id

  Returns 1 when forgotten, -2 when there is no such job, -3 when the job is not finished.
]]
local rcall = redis.call
local raw = rcall("HGET", KEYS[1], ARGV[1])
if not raw then return -2 end
local job = cjson.decode(raw)
if job.status ~= "succeeded" and job.status ~= "dead" and job.status ~= "cancelled" then return -3 end
rcall("HDEL", KEYS[1], ARGV[1])
rcall("DEL", dataKey(KEYS[1], ARGV[1]))
rcall("ZREM", KEYS[2], ARGV[1])
rcall("ZREM", KEYS[3], ARGV[1])
if job.idempotencyKey then rcall("HDEL", KEYS[4], job.idempotencyKey) end
if job.status == "dead" or job.status == "cancelled" then rcall("HINCRBY", KEYS[5], job.status, -1) end
return 1
