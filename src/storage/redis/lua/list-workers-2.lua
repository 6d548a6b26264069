--[[
  Forgets workers not seen since the cutoff, then answers the others.

  KEYS[1] workers  HASH worker id -> WorkerInfo JSON
  KEYS[2] seen     ZSET worker id by lastSeen

  ARGV[1] cutoff (epoch ms): workers last seen before it are dropped

  Returns an array of WorkerInfo JSON texts.
]]
local rcall = redis.call
local stale = rcall("ZRANGEBYSCORE", KEYS[2], "-inf", "(" .. ARGV[1])
for _, id in ipairs(stale) do
  rcall("HDEL", KEYS[1], id)
  rcall("ZREM", KEYS[2], id)
end
return rcall("HVALS", KEYS[1])
