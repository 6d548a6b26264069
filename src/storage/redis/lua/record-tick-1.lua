--[[
  Records the last tick of a cron schedule and the job it enqueued, only when it is later than
  the tick recorded (servers of one pipeline race on the same tick; the latest tick wins).

  KEYS[1] schedules  HASH  last:<name> -> "<tick epoch ms>|<job id>" (see declare-schedules-1.lua)

  ARGV[1] schedule name
  ARGV[2] tick, epoch ms
  ARGV[3] job id

  Returns 1 when recorded, 0 when a tick as late or later was recorded already.
]]
local rcall = redis.call
local field = "last:" .. ARGV[1]
local current = rcall("HGET", KEYS[1], field)
if current then
  local bar = string.find(current, "|", 1, true)
  if bar ~= nil and tonumber(string.sub(current, 1, bar - 1)) >= tonumber(ARGV[2]) then
    return 0
  end
end
rcall("HSET", KEYS[1], field, ARGV[2] .. "|" .. ARGV[3])
return 1
