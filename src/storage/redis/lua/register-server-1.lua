--[[
  Records (or refreshes) a pipeline server in the registry of servers sharing this Redis, with an
  expiry read from the Redis clock (servers' clocks may disagree), and forgets expired entries.

  KEYS[1] servers  HASH server id -> "<expiresAt>|<ServerEntry JSON>"

  ARGV[1] server id
  ARGV[2] ServerEntry JSON
  ARGV[3] time to live, ms

  Returns the entry's expiry (epoch ms, Redis clock).
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiresAt = now + tonumber(ARGV[3])
local all = rcall("HGETALL", KEYS[1])
for i = 1, #all, 2 do
  local bar = string.find(all[i + 1], "|", 1, true)
  if bar == nil or tonumber(string.sub(all[i + 1], 1, bar - 1)) < now then
    rcall("HDEL", KEYS[1], all[i])
  end
end
rcall("HSET", KEYS[1], ARGV[1], expiresAt .. "|" .. ARGV[2])
return expiresAt
