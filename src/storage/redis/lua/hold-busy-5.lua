--[[
  The last part of a lease at a step with limits: looks at the jobs lease-next-7.lua just leased
  from the queue, in order. A job whose concurrency key has maxPerKey jobs running, or older jobs
  held, is handed back to its key's held LIST (tail); one the rate window has no room for (another
  server took it since lease-held-5.lua) goes to the step's `over` LIST. Either is `queued` again,
  its attempt not counted. The others stay leased: their key counts them, the rate window records
  them, and their lease time becomes this script's time (the window's).

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] counters      HASH (step:<t>:running|held|over|rate-until)
  KEYS[5] queue prefix  the step's limit keys are KEYS[5] .. t .. ":starts|keys|over|held:<key>"

  ARGV[1] job type t
  ARGV[2] maxPerKey, 0 for no per-key limit
  ARGV[3] rate max, 0 for no rate limit
  ARGV[4] rate window, ms
  ARGV[5] leaseMs
  ARGV[6] JSON array of [jobId, token] pairs, as leased

  Returns a flat array: the rate window's room left (-1 without a rate limit), then the leases
  kept: token1, record JSON 1, ... (the caller has their data from lease-next-7.lua)
]]
local rcall = redis.call
local now = nowMs()
local step = ARGV[1]
local maxPerKey = tonumber(ARGV[2])
local rateMax = tonumber(ARGV[3])
local perMs = tonumber(ARGV[4])
local expiresAt = now + tonumber(ARGV[5])
local base = KEYS[5] .. step
local starts = base .. ":starts"

local free = -1
if rateMax > 0 then
  rcall("ZREMRANGEBYSCORE", starts, "-inf", now - perMs)
  free = rateMax - rcall("ZCARD", starts)
end

local out = { 0 }
local handedBack = 0
local function unlease(job, list, field)
  rcall("HDEL", KEYS[2], job.id)
  rcall("ZREM", KEYS[3], job.id)
  handedBack = handedBack + 1
  job.attempts = math.max(0, job.attempts - 1)
  -- The lease set startedAt only when the job had never started.
  if job.startedAt == job.updatedAt and (job.nh or 0) == 0 and job.history == nil then job.startedAt = nil end
  if job.dueAt then job.updatedAt = job.dueAt end
  job.dueAt = nil
  job.status = "queued"
  job.workerId = nil
  job.leaseExpiresAt = nil
  rcall("HSET", KEYS[1], job.id, cjson.encode(job))
  rcall("RPUSH", list, job.id)
  rcall("HINCRBY", KEYS[4], "step:" .. step .. ":" .. field, 1)
end

for _, pair in ipairs(cjson.decode(ARGV[6])) do
  local id, token = pair[1], pair[2]
  local raw = rcall("HGET", KEYS[1], id)
  if raw and rcall("HGET", KEYS[2], id) == token then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    local key = job.concurrencyKey
    if maxPerKey > 0 and key and (tonumber(rcall("HGET", base .. ":keys", key) or "0") >= maxPerKey or rcall("EXISTS", base .. ":held:" .. key) == 1) then
      unlease(job, base .. ":held:" .. key, "held")
    elseif rateMax > 0 and free <= 0 then
      unlease(job, base .. ":over", "over")
    else
      if job.startedAt == job.updatedAt then job.startedAt = now end
      job.updatedAt = now
      job.leaseExpiresAt = expiresAt
      rcall("ZADD", KEYS[3], expiresAt, id)
      if maxPerKey > 0 and key then
        rcall("HINCRBY", base .. ":keys", key, 1)
        job.keyCounted = 1
      end
      if rateMax > 0 then
        rcall("ZADD", starts, now, token)
        free = free - 1
      end
      local json = cjson.encode(job)
      rcall("HSET", KEYS[1], id, json)
      out[#out + 1] = token
      out[#out + 1] = json
    end
  end
end
if handedBack > 0 then rcall("HINCRBY", KEYS[4], "step:" .. step .. ":running", -handedBack) end
if rateMax > 0 and free <= 0 then
  local oldest = rcall("ZRANGE", starts, 0, 0, "WITHSCORES")
  if oldest[2] then rcall("HSET", KEYS[4], "step:" .. step .. ":rate-until", tonumber(oldest[2]) + perMs) end
end
if rateMax > 0 and free < 0 then free = 0 end
out[1] = free
return out
