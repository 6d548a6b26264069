--[[
  Prepended (by scripts.ts) to every script where a running job stops running: settle, release,
  reclaim. Step limits (lease-held-5.lua, hold-busy-5.lua) count a job against its concurrency key
  while it runs (`job.keyCounted`, key `job.concurrencyKey`); these give the place back and, when
  jobs of that key are held, mark the key so the next lease takes the oldest of them. Key names
  come from the queue prefix of the caller's KEYS (same hash tag), as the queues' do:
    <queue prefix><step>:keys          HASH key -> jobs running
    <queue prefix><step>:held:<key>    LIST held job ids, oldest first
    <queue prefix><step>:unheld        SET  keys with held jobs and a free place
  Both return true when the job's key has held jobs.
  For cancel (or any other way a job leaves without running again): a running job that ends
  there calls keyLeft (not keyBackInLine: it must not wait again); a `queued` job that is not in
  its queue LIST may be held: keyForget takes it out of its key's held LIST or the step's `over`
  LIST and fixes their counters.
]]
local function keyLeft(queuePrefix, job)
  if job.keyCounted == nil then return false end
  job.keyCounted = nil
  local base = queuePrefix .. job.step
  if redis.call("HINCRBY", base .. ":keys", job.concurrencyKey, -1) <= 0 then redis.call("HDEL", base .. ":keys", job.concurrencyKey) end
  if redis.call("EXISTS", base .. ":held:" .. job.concurrencyKey) == 1 then
    redis.call("SADD", base .. ":unheld", job.concurrencyKey)
    return true
  end
  return false
end

-- A running job handed back (released, reclaimed): first among its key's held jobs when there are
-- any (it is older than they are), instead of its queue. True when placed so.
local function keyBackInLine(queuePrefix, counters, job)
  if not keyLeft(queuePrefix, job) then return false end
  redis.call("LPUSH", queuePrefix .. job.step .. ":held:" .. job.concurrencyKey, job.id)
  redis.call("HINCRBY", counters, "step:" .. job.step .. ":held", 1)
  return true
end

-- A queued job leaves for good (cancelled): out of its key's held LIST or the step's `over` LIST,
-- where a limited step may hold it instead of its queue. True when it was in one of them.
local function keyForget(queuePrefix, counters, job)
  local base = queuePrefix .. job.step
  if job.concurrencyKey and redis.call("LREM", base .. ":held:" .. job.concurrencyKey, 1, job.id) > 0 then
    redis.call("HINCRBY", counters, "step:" .. job.step .. ":held", -1)
    return true
  end
  if redis.call("LREM", base .. ":over", 1, job.id) > 0 then
    redis.call("HINCRBY", counters, "step:" .. job.step .. ":over", -1)
    return true
  end
  return false
end
