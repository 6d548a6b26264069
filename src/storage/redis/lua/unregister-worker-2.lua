--[[
  Forgets a worker.

  KEYS[1] workers  HASH worker id -> WorkerInfo JSON
  KEYS[2] seen     ZSET worker id by lastSeen

  ARGV[1] worker id

  Returns 1 when the worker was known, 0 otherwise.
]]
local rcall = redis.call
rcall("ZREM", KEYS[2], ARGV[1])
return rcall("HDEL", KEYS[1], ARGV[1])
