--[[
  Records (or refreshes) a worker's announcement.

  KEYS[1] workers  HASH worker id -> WorkerInfo JSON
  KEYS[2] seen     ZSET worker id by lastSeen

  ARGV[1] worker id
  ARGV[2] WorkerInfo JSON
  ARGV[3] lastSeen (epoch ms, the worker's clock)

  Returns 1.
]]
local rcall = redis.call
rcall("HSET", KEYS[1], ARGV[1], ARGV[2])
rcall("ZADD", KEYS[2], ARGV[3], ARGV[1])
return 1
