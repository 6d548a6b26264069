--[[
  Forgets a worker; given an instance, only while the stored entry is that instance, so the late
  unregister of a dropped worker's old instance leaves the entry of its re-joined one.

  KEYS[1] workers  HASH worker id -> WorkerInfo JSON
  KEYS[2] seen     ZSET worker id by lastSeen

  ARGV[1] worker id
  ARGV[2] instance, "" for any

  Returns 1 when an entry was removed, 0 otherwise.
]]
local rcall = redis.call
if ARGV[2] ~= "" then
  local raw = rcall("HGET", KEYS[1], ARGV[1])
  if not raw or cjson.decode(raw).instance ~= ARGV[2] then return 0 end
end
rcall("ZREM", KEYS[2], ARGV[1])
return rcall("HDEL", KEYS[1], ARGV[1])
