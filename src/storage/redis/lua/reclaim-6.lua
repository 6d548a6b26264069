--[[
  Returns jobs whose lease expired (by Redis TIME) to the head of their step's queue; the lost
  attempt counts. Their lease tokens become stale. A job counted against its concurrency key goes
  first among its key's held jobs, when there are any (_key-left.lua, prepended).
  A job a cancel was asked for while it ran (`cancelRequestedAt`, see cancel-6.lua) is not
  requeued: it becomes `cancelled` (final), and nothing else is counted (_cancel-at-lease-end.lua,
  prepended).

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] counters      HASH (step:<t>:running, unfinished, cancelled, step:<t>:cancelled)
  KEYS[5] queue prefix  queue LIST of job type t is KEYS[5] .. t (same hash tag; at the job's priority, see _priority-queues.lua)
  KEYS[6] finished      ZSET id by finishedAt

  ARGV[1] reason: JobError JSON text, kept as the job's error
  ARGV[2] most jobs reclaimed in this call

  Returns the number of jobs reclaimed.
]]
local rcall = redis.call
local now = nowMs()
local reclaimed = 0

for _, id in ipairs(rcall("ZRANGEBYSCORE", KEYS[3], "-inf", now, "LIMIT", 0, tonumber(ARGV[2]))) do
  rcall("ZREM", KEYS[3], id)
  rcall("HDEL", KEYS[2], id)
  local raw = rcall("HGET", KEYS[1], id)
  if raw then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    if job.status == "running" then
      endLease(KEYS, job, ARGV[1], now)
      reclaimed = reclaimed + 1
    end
  end
end
return reclaimed
