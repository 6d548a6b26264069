--[[
  Cancels one job. A queued job leaves its step's queue, a job waiting for a retry (`failed`) or
  for its start time (`delayed`) leaves the delayed ZSET: it is `cancelled` (final) at once. A
  running job is only marked (`cancelRequestedAt`, and its id added to the cancels SET, which the
  lease holder reads, see cancel-requested-3.lua): it becomes `cancelled` when its lease ends, in
  settle-8, release-6 or reclaim-6. A finished job (succeeded, dead, cancelled) is left as it is.

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] delayed       ZSET id by runAt
  KEYS[3] finished      ZSET id by finishedAt
  KEYS[4] counters      HASH (unfinished, cancelled, delayed, step:<t>:delayed|delayedStart|cancelled)
  KEYS[5] cancels       SET ids of running jobs a cancel was asked for
  KEYS[6] queue prefix  queue LIST of job type t is KEYS[6] .. t (same hash tag); jobs held back
                        by step limits are beside it (see lua/_key-left.lua)

  ARGV[1] job id
  ARGV[2] the cancelled job's error: JobError JSON text

  Returns { code, record JSON, caller data HASH flat }: 1 cancelled now, 2 running (cancel
  requested; it was already, or is now), -4 already finished (the job as it is); or { -2 } when
  there is no such job.
]]
local rcall = redis.call
local id = ARGV[1]
local raw = rcall("HGET", KEYS[1], id)
if not raw then return { -2 } end
local job = cjson.decode(raw)
local status = job.status
local function reply(code, json)
  return { code, json, rcall("HGETALL", dataKey(KEYS[1], id)) }
end
if status == "succeeded" or status == "dead" or status == "cancelled" then return reply(-4, raw) end
local now = nowMs()
if status == "running" then
  if job.cancelRequestedAt then return reply(2, raw) end
  upgradeJob(KEYS[1], job)
  job.cancelRequestedAt = now
  local json = cjson.encode(job)
  rcall("HSET", KEYS[1], id, json)
  rcall("SADD", KEYS[5], id)
  return reply(2, json)
end
if status == "queued" then
  -- In its queue, or held back by its step's limits (keyForget, lua/_key-left.lua, prepended).
  -- Its queue is the one of its priority (queueKey, lua/_priority-queues.lua, prepended).
  if rcall("LREM", queueKey(KEYS[6] .. job.step, job.priority), 1, id) == 0 then keyForget(KEYS[6], KEYS[4], job) end
else
  -- failed (a retry) or delayed (a start time): both wait in the delayed ZSET, counted apart.
  rcall("ZREM", KEYS[2], id)
  if status == "failed" then
    rcall("HINCRBY", KEYS[4], "step:" .. job.step .. ":delayed", -1)
  else
    rcall("HINCRBY", KEYS[4], "delayed", -1)
    rcall("HINCRBY", KEYS[4], "step:" .. job.step .. ":delayedStart", -1)
  end
end
upgradeJob(KEYS[1], job)
-- Cancelled now: error, times, finished ZSET, counters (cancelNow, lua/_cancel-at-lease-end.lua, prepended).
return reply(1, cancelNow(KEYS[1], KEYS[3], KEYS[4], job, ARGV[2], now))
