--[[
  The first part of a lease at a step with limits (the second is lease-next-7.lua, then
  hold-busy-5.lua): takes the rate window's room, then leases jobs held back earlier, oldest first:
  those the window turned away (the `over` LIST), then those of keys with a free place again
  (`unheld`). A held job whose key is still busy stays held. Each lease is recorded in the rate
  window at this script's time, which is also the job's lease time.

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases        HASH id -> current lease token
  KEYS[3] running       ZSET id by lease expiry
  KEYS[4] counters      HASH (step:<t>:running|held|over|rate-until)
  KEYS[5] queue prefix  the step's limit keys are KEYS[5] .. t .. ":starts|keys|unheld|over|held:<key>"

  ARGV[1] job type t
  ARGV[2] maxPerKey, 0 for no per-key limit
  ARGV[3] rate max, 0 for no rate limit
  ARGV[4] rate window, ms
  ARGV[5] room: most jobs wanted (free worker credit)
  ARGV[6] leaseMs
  ARGV[7] workerId, "" for none
  ARGV[8..7+room] lease tokens

  Returns a flat array: room left for the queue, then five entries per job leased (leaseJob,
  leaseReply: _job-data.lua): token, record JSON, error, attempt records, input (small) or "".
]]
local rcall = redis.call
local now = nowMs()
local step = ARGV[1]
local maxPerKey = tonumber(ARGV[2])
local rateMax = tonumber(ARGV[3])
local perMs = tonumber(ARGV[4])
local room = tonumber(ARGV[5])
local expiresAt = now + tonumber(ARGV[6])
local base = KEYS[5] .. step
local starts = base .. ":starts"

local n = room
if rateMax > 0 then
  rcall("ZREMRANGEBYSCORE", starts, "-inf", now - perMs)
  local free = rateMax - rcall("ZCARD", starts)
  if free < 0 then free = 0 end
  if free < n then
    n = free
    local oldest = rcall("ZRANGE", starts, 0, 0, "WITHSCORES")
    rcall("HSET", KEYS[4], "step:" .. step .. ":rate-until", (tonumber(oldest[2]) or now) + perMs)
  else
    rcall("HSET", KEYS[4], "step:" .. step .. ":rate-until", 0)
  end
end

local out = { 0 }
local used = 0
local function lease(job)
  used = used + 1
  local token = ARGV[7 + used]
  if maxPerKey > 0 and job.concurrencyKey then
    rcall("HINCRBY", base .. ":keys", job.concurrencyKey, 1)
    job.keyCounted = 1
  end
  leaseJob(out, KEYS[1], KEYS[2], KEYS[3], job, token, now, expiresAt, ARGV[7])
  if rateMax > 0 then rcall("ZADD", starts, now, token) end
  n = n - 1
end
local function busy(key)
  return tonumber(rcall("HGET", base .. ":keys", key) or "0") >= maxPerKey
end
local function hold(job)
  rcall("RPUSH", base .. ":held:" .. job.concurrencyKey, job.id)
  rcall("HINCRBY", KEYS[4], "step:" .. step .. ":held", 1)
end

-- Turned away by the window: first in line.
while n > 0 do
  local id = rcall("LPOP", base .. ":over")
  if not id then break end
  rcall("HINCRBY", KEYS[4], "step:" .. step .. ":over", -1)
  local raw = rcall("HGET", KEYS[1], id)
  if raw then
    local job = cjson.decode(raw)
    upgradeJob(KEYS[1], job)
    if job.status == "queued" then
      if maxPerKey > 0 and job.concurrencyKey and (busy(job.concurrencyKey) or rcall("EXISTS", base .. ":held:" .. job.concurrencyKey) == 1) then
        hold(job)
      else
        lease(job)
      end
    end
  end
end

-- Keys with a free place again: their oldest held jobs.
if maxPerKey > 0 and n > 0 then
  for _, key in ipairs(rcall("SMEMBERS", base .. ":unheld")) do
    local list = base .. ":held:" .. key
    while n > 0 and not busy(key) do
      local id = rcall("LPOP", list)
      if not id then break end
      rcall("HINCRBY", KEYS[4], "step:" .. step .. ":held", -1)
      local raw = rcall("HGET", KEYS[1], id)
      if raw then
        local job = cjson.decode(raw)
        upgradeJob(KEYS[1], job)
        if job.status == "queued" then lease(job) end
      end
    end
    if rcall("EXISTS", list) == 0 or busy(key) then rcall("SREM", base .. ":unheld", key) end
    if n <= 0 then break end
  end
end

if used > 0 then rcall("HINCRBY", KEYS[4], "step:" .. step .. ":running", used) end
out[1] = n
return out
