--[[
  Pushes a lease's expiry to Redis TIME + leaseMs, if the token is the job's current lease.

  KEYS[1] jobs     HASH id -> job JSON
  KEYS[2] leases   HASH id -> current lease token
  KEYS[3] running  ZSET id by lease expiry

  ARGV[1] job id
  ARGV[2] token
  ARGV[3] leaseMs

  Returns the new expiry (epoch ms), -1 when the token is stale, -2 when there is no such job.
]]
local rcall = redis.call
local raw = rcall("HGET", KEYS[1], ARGV[1])
if not raw then return -2 end
if rcall("HGET", KEYS[2], ARGV[1]) ~= ARGV[2] then return -1 end
local job = cjson.decode(raw)
if job.status ~= "running" then return -1 end
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
job.leaseExpiresAt = now + tonumber(ARGV[3])
rcall("HSET", KEYS[1], ARGV[1], cjson.encode(job))
rcall("ZADD", KEYS[3], "XX", job.leaseExpiresAt, ARGV[1])
return job.leaseExpiresAt
