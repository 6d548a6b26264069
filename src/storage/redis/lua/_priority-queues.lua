--[[
  Prepended (by scripts.ts) to every script that pushes to or leases from a step's queue: one
  LIST per priority level per job type. The queue of job type t at priority p
  is <queue prefix> .. t for p = 0 (the key stored data has always used) and
  <queue prefix> .. t .. ":" .. p for p = 1 to 9 (a job type holds no ":", see core/names.ts).
  Every such key carries the pipeline's hash tag through the prefix passed in KEYS.

  A lease takes the highest level holding jobs, FIFO within a level. While two or more levels
  hold jobs, every 10th lease of the step takes the job waiting longest instead: the oldest head
  of all levels by `updatedAt` (when it was queued; ties go to the lower level), counted in the
  counters field step:<t>:mixedLeases. With only level 0 in use, a lease is one EXISTS more than
  a plain LPOP.
]]
local AGING_EVERY = 10

-- The LIST of `base` (prefix .. job type) at `priority` (nil or 0: `base` itself).
local function queueKey(base, priority)
  if priority == nil or priority <= 0 then return base end
  return base .. ":" .. priority
end

-- A job (its decoded record) at the tail of its step's queue, at its priority.
local function pushTail(prefix, job, id)
  redis.call("RPUSH", queueKey(prefix .. job.step, job.priority), id)
end

-- A job at the head of its step's queue, at its priority: the next of its level to be leased.
local function pushHead(prefix, job, id)
  redis.call("LPUSH", queueKey(prefix .. job.step, job.priority), id)
end

-- Takes up to `count` ids from the queue `base` (prefix .. job type) by the rule above.
-- `jobs`: the jobs HASH (to read heads' `updatedAt`); `counters`, `field`: the aging counter.
local function popIds(base, jobs, counters, field, count)
  local higher = {}
  for p = 1, 9 do higher[p] = base .. ":" .. p end
  if redis.call("EXISTS", unpack(higher)) == 0 then
    return redis.call("LPOP", base, count) or {}
  end
  local function key(p)
    if p == 0 then return base end
    return higher[p]
  end
  local lengths = {}
  for p = 0, 9 do lengths[p] = redis.call("LLEN", key(p)) end
  local mixed = tonumber(redis.call("HGET", counters, field) or "0")
  local ids = {}
  while #ids < count do
    local highest = nil
    local waiting = 0
    for p = 9, 0, -1 do
      if lengths[p] > 0 then
        if highest == nil then highest = p end
        waiting = waiting + 1
      end
    end
    if highest == nil then break end
    local pick = highest
    if waiting >= 2 then
      mixed = mixed + 1
      if mixed % AGING_EVERY == 0 then
        local oldest = nil
        for p = 9, 0, -1 do
          if lengths[p] > 0 then
            local raw = redis.call("HGET", jobs, redis.call("LINDEX", key(p), 0))
            local at = 0
            if raw then at = cjson.decode(raw).updatedAt or 0 end
            if oldest == nil or at <= oldest then
              oldest = at
              pick = p
            end
          end
        end
      end
    end
    local id = redis.call("LPOP", key(pick))
    lengths[pick] = lengths[pick] - 1
    if id then ids[#ids + 1] = id end
  end
  redis.call("HSET", counters, field, mixed)
  return ids
end
