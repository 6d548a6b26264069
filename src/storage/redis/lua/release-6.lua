--[[
  Hands leased jobs back to the head of their step's queue, in order, so the last one released is
  leased first; the attempt is not counted. A stall (the worker was lost or stopped with the job
  in flight) counts on the job (`stalls`) and on the step (`step:<t>:stalled`). Leases whose token
  is stale are skipped. A job counted against its concurrency key goes first among its key's held
  jobs, when there are any (_key-left.lua, prepended).
  A job a cancel was asked for while it ran (`cancelRequestedAt`, see cancel-6.lua) is not
  requeued: it becomes `cancelled` (final), and nothing else is counted (_cancel-at-lease-end.lua,
  prepended).

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] counters      HASH (step:<t>:running, step:<t>:stalled, unfinished, cancelled, step:<t>:cancelled)
  KEYS[5] queue prefix  queue LIST of job type t is KEYS[5] .. t (same hash tag; at the job's priority, see _priority-queues.lua)
  KEYS[6] finished      ZSET id by finishedAt

  ARGV[1] reason: JobError JSON text, kept as the job's error
  ARGV[2] "stall" (worker lost or stopped) or "untried" (never ran: not delivered, handed back)
  ARGV[3] JSON array of [jobId, token] pairs

  Returns the number of jobs released.
]]
local rcall = redis.call
local now = nowMs()
local released = 0

for _, pair in ipairs(cjson.decode(ARGV[3])) do
  local id, token = pair[1], pair[2]
  local raw = rcall("HGET", KEYS[1], id)
  if raw and rcall("HGET", KEYS[2], id) == token then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    if job.status == "running" then
      rcall("HDEL", KEYS[2], id)
      rcall("ZREM", KEYS[3], id)
      job.attempts = math.max(0, job.attempts - 1)
      if ARGV[2] == "stall" and not job.cancelRequestedAt then
        job.stalls = (job.stalls or 0) + 1
        rcall("HINCRBY", KEYS[4], "step:" .. job.step .. ":stalled", 1)
      end
      endLease(KEYS, job, ARGV[1], now)
      released = released + 1
    end
  end
end
return released
