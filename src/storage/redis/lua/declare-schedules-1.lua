--[[
  Declares the cron schedules of one pipeline: their definitions replace those it had (a field
  `def:<name>` not listed is removed; its `last:` and `since:` stay), a schedule new to the store
  gets `since:<name>` = ARGV[1].

  KEYS[1] schedules  HASH  def:<name> -> definition JSON, since:<name> -> epoch ms,
                           last:<name> -> "<tick epoch ms>|<job id>"

  ARGV[1] now, epoch ms (the caller's clock: the one its ticks are computed on)
  ARGV[2] JSON array of [name, definition JSON] pairs

  Returns the hash's fields and values after the change, flat (HGETALL).
]]
local rcall = redis.call
local pairs_ = cjson.decode(ARGV[2])
local keep = {}
for _, pair in ipairs(pairs_) do
  keep["def:" .. pair[1]] = true
end
local fields = rcall("HKEYS", KEYS[1])
for _, field in ipairs(fields) do
  if string.sub(field, 1, 4) == "def:" and not keep[field] then
    rcall("HDEL", KEYS[1], field)
  end
end
for _, pair in ipairs(pairs_) do
  rcall("HSET", KEYS[1], "def:" .. pair[1], pair[2])
  rcall("HSETNX", KEYS[1], "since:" .. pair[1], ARGV[1])
end
return rcall("HGETALL", KEYS[1])
