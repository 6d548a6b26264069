--[[
  The live pipeline servers of the registry (entries whose expiry, by the Redis clock, has not
  passed); expired entries are forgotten.

  KEYS[1] servers  HASH server id -> "<expiresAt>|<ServerEntry JSON>"

  Returns an array of ServerEntry JSON texts.
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = rcall("HGETALL", KEYS[1])
local live = {}
for i = 1, #all, 2 do
  local bar = string.find(all[i + 1], "|", 1, true)
  if bar == nil or tonumber(string.sub(all[i + 1], 1, bar - 1)) < now then
    rcall("HDEL", KEYS[1], all[i])
  else
    live[#live + 1] = string.sub(all[i + 1], bar + 1)
  end
end
return live
