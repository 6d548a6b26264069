--[[
  Which of these leased jobs a cancel was asked for: what the server holding their leases reads
  every second to tell their workers (another server may have taken the cancel). Reads the job
  record only of ids in the cancels SET (few), never of the others. Entries whose job no longer
  runs with a cancel asked (its lease ended: it is cancelled; redriven) are dropped: those asked
  about, and up to ARGV[1] others at random, whose job is no longer leased.

  KEYS[1] cancels   SET ids of running jobs a cancel was asked for
  KEYS[2] jobs      HASH id -> job JSON
  KEYS[3] running   ZSET id by lease expiry

  ARGV[1] most other entries checked in this call
  ARGV[2..] job ids

  Returns the ids (of ARGV[2..]) running with a cancel asked for.
]]
local rcall = redis.call
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if rcall("SISMEMBER", KEYS[1], id) == 1 then
    local raw = rcall("HGET", KEYS[2], id)
    local job = raw and cjson.decode(raw)
    if job and job.status == "running" and job.cancelRequestedAt then
      out[#out + 1] = id
    else
      rcall("SREM", KEYS[1], id)
    end
  end
end
local sample = rcall("SRANDMEMBER", KEYS[1], tonumber(ARGV[1]))
for _, id in ipairs(sample) do
  if not rcall("ZSCORE", KEYS[3], id) then rcall("SREM", KEYS[1], id) end
end
return out
