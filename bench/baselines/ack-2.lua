-- Minimal Redis lease chain baseline: acknowledge a batch of leased jobs.
-- KEYS[1] leased (zset)   KEYS[2] done (counter)
-- ARGV[1..n] the payloads leased
-- Returns the done count after this ack.
local rcall = redis.call
rcall("ZREM", KEYS[1], unpack(ARGV))
return rcall("INCRBY", KEYS[2], #ARGV)
