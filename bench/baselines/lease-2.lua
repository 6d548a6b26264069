-- Minimal Redis lease chain baseline: lease up to ARGV[1] jobs at once.
-- KEYS[1] queue (list of job payloads)   KEYS[2] leased (zset: payload → lease deadline)
-- ARGV[1] how many at most               ARGV[2] lease deadline, epoch ms
-- Returns the leased payloads (empty when the queue is).
local rcall = redis.call
local jobs = rcall("LPOP", KEYS[1], tonumber(ARGV[1]))
if not jobs then return {} end
for _, job in ipairs(jobs) do rcall("ZADD", KEYS[2], ARGV[2], job) end
return jobs
