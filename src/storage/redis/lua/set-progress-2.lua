--[[
  Records the progress of a running attempt, if the token is the job's current lease.

  KEYS[1] jobs    HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] leases  HASH id -> current lease token

  ARGV[1] job id
  ARGV[2] token
  ARGV[3] progress: JobProgress JSON text

  Returns 1 when recorded, -1 when the token is stale, -2 when there is no such job.
]]
local rcall = redis.call
local raw = rcall("HGET", KEYS[1], ARGV[1])
if not raw then return -2 end
if rcall("HGET", KEYS[2], ARGV[1]) ~= ARGV[2] then return -1 end
local job = cjson.decode(raw)
if job.status ~= "running" then return -1 end
upgradeJob(KEYS[1], job)
setData(KEYS[1], ARGV[1], "p", ARGV[3])
job.updatedAt = nowMs()
rcall("HSET", KEYS[1], ARGV[1], cjson.encode(job))
return 1
