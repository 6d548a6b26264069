--[[
  The store epoch of one pipeline: written once, when the first process starts on this Redis,
  and read by every later one. A process that finds it gone or changed knows that Redis was
  emptied or replaced under it.

  KEYS[1] epoch   STRING the pipeline's store epoch

  ARGV[1] the epoch to write when there is none

  Returns the epoch stored (the existing one, or ARGV[1] just written).
]]
local rcall = redis.call
local existing = rcall("GET", KEYS[1])
if existing then return existing end
rcall("SET", KEYS[1], ARGV[1])
return ARGV[1]
