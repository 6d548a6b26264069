--[[
  Requeues a dead or cancelled job at the tail of the queue of the step it ended at, with its
  attempts reset (its history kept).

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] finished      ZSET id by finishedAt
  KEYS[3] counters      HASH (dead, cancelled, unfinished)
  KEYS[4] queue prefix  queue LIST of job type t is KEYS[4] .. t (same hash tag; at the job's priority, see _priority-queues.lua)

  ARGV[1] job id
  ARGV[2] new input of the step as JSON text, "" to keep the job's

  Returns 1 when requeued, -2 when there is no such job, -3 when the job is neither dead nor cancelled.
]]
local rcall = redis.call
local raw = rcall("HGET", KEYS[1], ARGV[1])
if not raw then return -2 end
local job = cjson.decode(raw)
if job.status ~= "dead" and job.status ~= "cancelled" then return -3 end
upgradeJob(KEYS[1], job)
local now = nowMs()
rcall("ZREM", KEYS[2], ARGV[1])
rcall("HINCRBY", KEYS[3], job.status, -1)
rcall("HINCRBY", KEYS[3], "unfinished", 1)
job.status = "queued"
if ARGV[2] ~= nil and ARGV[2] ~= "" then setData(KEYS[1], ARGV[1], "in", ARGV[2]) end
job.attempts = 0
job.cancelRequestedAt = nil
job.finishedAt = nil
job.updatedAt = now
rcall("HSET", KEYS[1], ARGV[1], cjson.encode(job))
pushTail(KEYS[4], job, ARGV[1])
return 1
