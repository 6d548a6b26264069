--[[
  Which of these jobs a waiter may stop polling: finished (succeeded, dead or cancelled) or no longer stored.
  Reads no job record, so a waiter's poll costs the same for a 100 B job as for a 100 KB one.

  KEYS[1] finished  ZSET id by finishedAt
  KEYS[2] jobs      HASH id -> job JSON

  ARGV    job ids

  Returns one integer per id: 1 final or gone, 0 still to run.
]]
local rcall = redis.call
local out = {}
for i, id in ipairs(ARGV) do
  if rcall("ZSCORE", KEYS[1], id) or rcall("HEXISTS", KEYS[2], id) == 0 then
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
