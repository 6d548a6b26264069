--[[
  Prepended (by scripts.ts) to every script that changes a job. A job is two things:
  - its record, in the pipeline's jobs HASH (KEYS: `jobs`): the small fields scripts read and
    change (status, step, attempts, times, ...), one JSON object that scripts cjson-decode;
  - its caller data, in its own HASH `<jobs>:<id>` (same hash tag, so the same Cluster slot),
    whose fields scripts write, delete or copy as opaque strings and never decode:
      i     instructions (JSON text), written once at enqueue
      in    the current step's input, when it is not the instructions
      r     result            e  error            p  progress
      s<n>  step record n (0-based; without `output` when o<n> holds it), o<n> that output
      h<n>  attempt record n
      s, h  steps and history (JSON array text) of a record upgraded from the old layout
    The record counts the numbered fields: `ns` steps, `nh` attempts; `lg` is set once an
    attempt logged (a lease then hands back the attempt records: the log budget is counted on them).
  A record of the old layout (caller data as JSON text inside it: `instructions` is set) is moved
  to this layout by the first script that changes it (upgradeJob); readers decode both.
  Big strings are kept out of Lua where they can be: a string crossing into or out of a script
  costs about 1.4 us per KB (Redis 7.0; a plain HSET or HGET of it, about 0.1), so the caller
  writes a big job's instructions with a plain HSET (enqueue-6.lua) and reads a leased job's big
  input with a plain HMGET after the lease; small ones (SMALL_INPUT) cross the scripts, which
  saves a command and a round trip per job.
]]
local function dataKey(jobs, id)
  return jobs .. ":" .. id
end

-- Redis TIME in epoch milliseconds: the storage's clock.
local function nowMs()
  local t = redis.call("TIME")
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local OLD_FIELDS = { { "input", "in" }, { "steps", "s" }, { "history", "h" }, { "result", "r" }, { "error", "e" }, { "progress", "p" } }

-- Moves an old-layout record's caller data to its data HASH (changes `job`; the caller writes it).
local function upgradeJob(jobs, job)
  if job.instructions == nil then return end
  local fields = { "i", job.instructions }
  for _, pair in ipairs(OLD_FIELDS) do
    local value = job[pair[1]]
    local skip = value == nil or (pair[1] == "input" and value == job.instructions) or ((pair[1] == "steps" or pair[1] == "history") and value == "[]")
    if not skip then
      fields[#fields + 1] = pair[2]
      fields[#fields + 1] = value
    end
    job[pair[1]] = nil
  end
  for i = 3, #fields, 2 do
    if fields[i] == "h" then job.lg = 1 end
  end
  job.instructions = nil
  redis.call("HSET", dataKey(jobs, job.id), unpack(fields))
end

-- Sets (value a string) or deletes (value nil) one caller-data field of a job.
local function setData(jobs, id, field, value)
  if value == nil then
    redis.call("HDEL", dataKey(jobs, id), field)
  else
    redis.call("HSET", dataKey(jobs, id), field, value)
  end
end

-- Appends an attempt record (JSON text) to a job's history.
local function addAttempt(jobs, job, text)
  if text == nil then return end
  local n = job.nh or 0
  redis.call("HSET", dataKey(jobs, job.id), "h" .. n, text)
  job.nh = n + 1
end

-- Inputs up to this many bytes cross the lease script (one call answers all a worker needs);
-- bigger ones are read by the caller with a plain HMGET after the lease (see above).
local SMALL_INPUT = 2048

-- What a worker needs of a job just leased, appended to `out`: token, record JSON, error (""
-- when none), its attempt records ("" before any logged; else a list of JSON texts: the old
-- layout's array text or "" first, then one per attempt), and its input: the JSON text when it is
-- SMALL_INPUT bytes or less, else "" (the caller reads it). HSTRLEN sizes a field without reading it.
local function leaseReply(out, jobs, job, token, json)
  local key = dataKey(jobs, job.id)
  local field = "in"
  local size = redis.call("HSTRLEN", key, "in")
  if size == 0 then
    field = "i"
    size = redis.call("HSTRLEN", key, "i")
  end
  local error, input
  if size <= SMALL_INPUT then
    local values = redis.call("HMGET", key, "e", field)
    error, input = values[1], values[2] or "null"
  else
    error, input = redis.call("HGET", key, "e"), ""
  end
  out[#out + 1] = token
  out[#out + 1] = json
  out[#out + 1] = error or ""
  if job.lg then
    local names = { "h" }
    for n = 0, (job.nh or 0) - 1 do names[#names + 1] = "h" .. n end
    local texts = redis.call("HMGET", key, unpack(names))
    for i = 1, #names do texts[i] = texts[i] or "" end
    out[#out + 1] = texts
  else
    out[#out + 1] = ""
  end
  out[#out + 1] = input
end

-- Leases `job` (its decoded record) now with `token` until `expiresAt`, to `workerId` ("" for
-- none): one attempt more, `dueAt` the time it was queued; writes its record, its lease and its
-- running entry (`jobs`, `leases`, `running`: the caller's KEYS) and appends its leaseReply to `out`.
local function leaseJob(out, jobs, leases, running, job, token, now, expiresAt, workerId)
  job.status = "running"
  job.attempts = job.attempts + 1
  job.dueAt = job.updatedAt
  job.updatedAt = now
  if job.startedAt == nil then job.startedAt = now end
  if workerId ~= "" then job.workerId = workerId else job.workerId = nil end
  job.leaseExpiresAt = expiresAt
  job.runAt = nil
  local json = cjson.encode(job)
  redis.call("HSET", jobs, job.id, json)
  redis.call("HSET", leases, job.id, token)
  redis.call("ZADD", running, expiresAt, job.id)
  leaseReply(out, jobs, job, token, json)
end
