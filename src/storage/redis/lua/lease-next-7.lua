--[[
  Leases up to ARGV[1] jobs from the head of one job type's queue, highest priority first (the
  rule and the aging lease are in _priority-queues.lua). First moves every retry and delayed job
  whose time has come (up to ARGV[4]) to the tail of its step's queue at its priority, counting a
  delayed job out of `delayed` and step:<t>:delayedStart. Lease expiry is Redis TIME +
  leaseMs; each lease gets the next of the tokens passed in (128 random bits each, drawn by the
  caller: Lua has no source of secure randomness) and counts an attempt. A leased job's `dueAt` is
  when it was queued (its `updatedAt` before the lease; a promoted retry counts from its retry time).

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] delayed       ZSET id by runAt
  KEYS[5] counters      HASH (step:<t>:running, step:<t>:delayed, delayed, step:<t>:delayedStart, step:<t>:mixedLeases)
  KEYS[6] queue         LIST of the job type to lease from (level 0; KEYS[7] .. t)
  KEYS[7] queue prefix  queue LIST of job type t is KEYS[7] .. t (same hash tag)

  ARGV[1] count
  ARGV[2] leaseMs
  ARGV[3] workerId, "" for none
  ARGV[4] most retries promoted in this call
  ARGV[5..4+count] lease tokens, one per job that may be leased

  Returns a flat array, five entries per job leased (oldest first): what a worker needs of it
  (leaseJob, leaseReply: _job-data.lua, prepended): token, record JSON, error, attempt records,
  and its input when small ("" otherwise: the caller reads it). Caller data is copied as it is
  stored, never decoded.
]]
local rcall = redis.call
local now = nowMs()
local count = tonumber(ARGV[1])
local expiresAt = now + tonumber(ARGV[2])

local due = rcall("ZRANGEBYSCORE", KEYS[4], "-inf", now, "LIMIT", 0, tonumber(ARGV[4]))
for _, id in ipairs(due) do
  local raw = rcall("HGET", KEYS[1], id)
  if raw then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    if job.status == "delayed" then
      rcall("HINCRBY", KEYS[5], "delayed", -1)
      rcall("HINCRBY", KEYS[5], "step:" .. job.step .. ":delayedStart", -1)
    else
      rcall("HINCRBY", KEYS[5], "step:" .. job.step .. ":delayed", -1)
    end
    job.status = "queued"
    -- Queued since its retry (or start) time: what its wait counts from.
    if job.runAt then job.updatedAt = job.runAt end
    job.runAt = nil
    rcall("HSET", KEYS[1], id, cjson.encode(job))
    pushTail(KEYS[7], job, id)
  end
  rcall("ZREM", KEYS[4], id)
end

local out = {}
if count < 1 then return out end
local ids = popIds(KEYS[6], KEYS[1], KEYS[5], "step:" .. string.sub(KEYS[6], #KEYS[7] + 1) .. ":mixedLeases", count)
local running = {}
local n = 0
for _, id in ipairs(ids) do
  local raw = rcall("HGET", KEYS[1], id)
  if raw then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    n = n + 1
    leaseJob(out, KEYS[1], KEYS[2], KEYS[3], job, ARGV[4 + n], now, expiresAt, ARGV[3])
    running[job.step] = (running[job.step] or 0) + 1
  end
end
for step, n in pairs(running) do rcall("HINCRBY", KEYS[5], "step:" .. step .. ":running", n) end
return out
