--[[
  Applies settlements of leased jobs of one pipeline, each atomically with the rest:
  - advance: records the step, moves the job to the tail of its next step's queue (ack + enqueue)
  - succeed: records the last step and the result; the job is finished
  - retry:   keeps the error and schedules the job at Redis TIME + delayMs
  - dead:    keeps the error; the job is finished
  A settlement whose token is not the job's current lease changes nothing.
  A job a cancel was asked for while it ran (`cancelRequestedAt`, see cancel-6.lua) becomes
  `cancelled` whatever the settlement says: its output or error is discarded, the attempt is kept
  in its history with outcome "cancelled" (step:<t>:cancelled counts it).
  Finished jobs enter the finished ZSET; trim-4.lua applies retention.

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] delayed       ZSET id by runAt
  KEYS[5] finished      ZSET id by finishedAt
  KEYS[6] counters      HASH (succeeded, dead, cancelled, unfinished, step:<t>:running|delayed|succeeded|failed|dead|cancelled)
  KEYS[7] latency       HASH (<t>:<bucket>, <t>:sum, <t>:count)
  KEYS[8] queue prefix  queue LIST of job type t is KEYS[8] .. t (same hash tag; at the job's priority, see _priority-queues.lua)

  ARGV: 17 entries per settlement, flat, "" for none (no JSON to decode: caller
  data stays raw strings, never escaped inside another JSON text):
    +1 kind          advance | succeed | retry | dead
    +2 jobId         +3 token
    +4 step          the StepRecord as JSON text (without `output` when +5 holds it)
    +5 output        the step's output as JSON text, when it is also the next input (advance)
                     or the result (succeed): stored once as o<n>, the script adds it
    +6 nextIndex     +7 input (JSON text)   +8 result (JSON text)   +9 error (JobError JSON text)
    +10 delayMs      +11 ms and +12 bucket: latency to observe, and its histogram bucket index
    +13 attempt      the attempt record as JSON text, appended to the job's history
    +14 lg           "1": the attempt logged
    +15 ck           advance: "k" .. the job's concurrency key at its next step
    +16 w and +17 wb the attempt's wait from due to start, ms, and its bucket: the step's
                     queue-wait histogram, fields wait:<t>:<bucket|sum|count> of KEYS[7]
  A job counted against its concurrency key gives its place back (_key-left.lua, prepended).

  Returns one integer per settlement, in order: 1 applied, 2 cancelled (a cancel was asked for:
  see above), -1 stale token, -2 no such job.
]]
local rcall = redis.call
local now = nowMs()
local out = {}

local FIELDS = 17
local function opt(v)
  if v == "" then return nil end
  return v
end
-- Settlement i of ARGV (see above), with the field names the rest of the script reads.
local function settlementAt(i)
  local b = (i - 1) * FIELDS
  local ck = ARGV[b + 15]
  if ck == "" then ck = nil else ck = string.sub(ck, 2) end
  return {
    kind = ARGV[b + 1], jobId = ARGV[b + 2], token = ARGV[b + 3], step = opt(ARGV[b + 4]), o = opt(ARGV[b + 5]),
    nextIndex = tonumber(ARGV[b + 6]), input = opt(ARGV[b + 7]), result = opt(ARGV[b + 8]), error = opt(ARGV[b + 9]),
    delayMs = tonumber(ARGV[b + 10]), ms = tonumber(ARGV[b + 11]), bucket = ARGV[b + 12], a = opt(ARGV[b + 13]),
    lg = opt(ARGV[b + 14]), ck = ck, w = tonumber(ARGV[b + 16]), wb = ARGV[b + 17],
  }
end

-- Counter and histogram changes are summed here and written once at the end (atomic script:
-- nobody sees the difference), instead of several HINCRBY per job.
local counts = {}
local latency = {}
local latencySum = {}
local function add(tbl, field, by)
  tbl[field] = (tbl[field] or 0) + by
end

local function count(job, field, by)
  add(counts, "step:" .. job.step .. ":" .. field, by)
end

local function observe(job, s)
  if s.ms == nil then return end
  add(latency, job.step .. ":" .. s.bucket, 1)
  add(latencySum, job.step .. ":sum", s.ms)
  add(latency, job.step .. ":count", 1)
end

local function observeWait(job, s)
  if s.w == nil then return end
  add(latency, "wait:" .. job.step .. ":" .. s.wb, 1)
  add(latencySum, "wait:" .. job.step .. ":sum", s.w)
  add(latency, "wait:" .. job.step .. ":count", 1)
end

-- Caller-data changes of the job being settled, gathered and written at its end in one HSET and
-- one HDEL (these shadow _job-data.lua's setData and addAttempt, which write at once).
local pendingSet, pendingDel = {}, {}
local function setData(_, _, field, value)
  if value == nil then
    pendingDel[#pendingDel + 1] = field
  else
    pendingSet[#pendingSet + 1] = field
    pendingSet[#pendingSet + 1] = value
  end
end
local function addAttempt(_, job, text)
  if text == nil then return end
  local n = job.nh or 0
  setData(nil, nil, "h" .. n, text)
  job.nh = n + 1
end
local function flushData(id)
  if #pendingSet > 0 then rcall("HSET", dataKey(KEYS[1], id), unpack(pendingSet)) end
  if #pendingDel > 0 then rcall("HDEL", dataKey(KEYS[1], id), unpack(pendingDel)) end
  pendingSet, pendingDel = {}, {}
end

-- The step record as field s<n> of the job's data, and its output, when passed apart, as o<n>
-- (copied, never decoded: _job-data.lua).
local function addStep(job, s)
  local n = job.ns or 0
  setData(nil, nil, "s" .. n, s.step)
  if s.o ~= nil then setData(nil, nil, "o" .. n, s.o) end
  job.ns = n + 1
end

-- The attempt record's outcome, rewritten: the first "outcome" key of its JSON text is its own
-- (JSON.stringify writes step, stepIndex, attempt, outcome first; a step name holds no quote).
local function cancelledAttempt(text)
  if text == nil then return nil end
  return (string.gsub(text, '"outcome":"[a-z]+"', '"outcome":"cancelled"', 1))
end
local CANCELLED = '{"name":"CancelledError","code":"CANCELLED","message":"the job was cancelled while it ran","retryable":false}'

local function finish(job)
  job.finishedAt = now
  if job.status == "succeeded" then setData(KEYS[1], job.id, "p", '{"fraction":1}') end
  add(counts, "unfinished", -1)
  rcall("ZADD", KEYS[5], now, job.id)
end

for i = 1, #ARGV / FIELDS do
  local s = settlementAt(i)
  local raw = rcall("HGET", KEYS[1], s.jobId)
  if not raw then
    out[i] = -2
  elseif rcall("HGET", KEYS[2], s.jobId) ~= s.token then
    out[i] = -1
  else
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    if job.status ~= "running" then
      out[i] = -1
    else
      rcall("HDEL", KEYS[2], s.jobId)
      rcall("ZREM", KEYS[3], s.jobId)
      count(job, "running", -1)
      keyLeft(KEYS[8], job)
      job.workerId = nil
      job.leaseExpiresAt = nil
      job.dueAt = nil
      job.updatedAt = now
      observeWait(job, s)
      if s.lg then job.lg = 1 end
      if job.cancelRequestedAt then
        addAttempt(KEYS[1], job, cancelledAttempt(s.a))
        count(job, "cancelled", 1)
        setData(KEYS[1], job.id, "e", CANCELLED)
        job.status = "cancelled"
        job.cancelRequestedAt = nil
        add(counts, "cancelled", 1)
        finish(job)
      else
        addAttempt(KEYS[1], job, s.a)
      end
      if job.status == "cancelled" then
        -- settled above
      elseif s.kind == "advance" then
        count(job, "succeeded", 1)
        observe(job, s)
        addStep(job, s)
        job.stepIndex = s.nextIndex
        job.step = job.route[s.nextIndex + 1] or job.step
        local input = s.input
        if s.o ~= nil then input = s.o end
        setData(nil, nil, "in", input or "null")
        setData(nil, nil, "p", nil)
        setData(nil, nil, "e", nil)
        job.concurrencyKey = s.ck
        job.attempts = 0
        job.status = "queued"
        pushTail(KEYS[8], job, job.id)
      elseif s.kind == "succeed" then
        count(job, "succeeded", 1)
        observe(job, s)
        addStep(job, s)
        local result = s.result
        if s.o ~= nil then result = s.o end
        setData(KEYS[1], job.id, "r", result)
        setData(nil, nil, "e", nil)
        job.status = "succeeded"
        add(counts, "succeeded", 1)
        finish(job)
      elseif s.kind == "retry" then
        count(job, "failed", 1)
        observe(job, s)
        setData(KEYS[1], job.id, "e", s.error)
        job.status = "failed"
        job.runAt = now + math.max(0, s.delayMs)
        rcall("ZADD", KEYS[4], job.runAt, job.id)
        count(job, "delayed", 1)
      else
        count(job, "failed", 1)
        count(job, "dead", 1)
        observe(job, s)
        setData(KEYS[1], job.id, "e", s.error)
        job.status = "dead"
        add(counts, "dead", 1)
        finish(job)
      end
      flushData(job.id)
      rcall("HSET", KEYS[1], job.id, cjson.encode(job))
      if job.status == "cancelled" then out[i] = 2 else out[i] = 1 end
    end
  end
end
for field, n in pairs(counts) do
  if n ~= 0 then rcall("HINCRBY", KEYS[6], field, n) end
end
for field, n in pairs(latency) do rcall("HINCRBY", KEYS[7], field, n) end
for field, ms in pairs(latencySum) do rcall("HINCRBYFLOAT", KEYS[7], field, ms) end
return out
