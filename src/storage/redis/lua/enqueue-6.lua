--[[
  Enqueues jobs into one pipeline: each is stored, indexed and pushed at the tail of the queue of
  its first step at its priority, unless its idempotency key already names a stored job (answered
  as is) or the pipeline holds maxQueued unfinished jobs (busy: nothing written). A job with a
  start time still ahead (runAt, or Redis TIME + delayMs) is stored `delayed` in the delayed ZSET
  instead, scored by that time; lease-next moves it to its queue once due.

  KEYS[1] jobs          HASH id -> job record JSON (caller data: <jobs>:<id>, see _job-data.lua)
  KEYS[2] idem          HASH idempotency key -> id
  KEYS[3] counters      HASH (accepted, unfinished, seq, delayed, step:<t>:delayedStart)
  KEYS[4] index         ZSET id by acceptance sequence
  KEYS[5] queue prefix  queue LIST of job type t is KEYS[5] .. t (same hash tag; levels: _priority-queues.lua)
  KEYS[6] delayed       ZSET id by runAt (retries and delayed starts)

  ARGV[1] maxQueued
  ARGV[2] JSON array of { id, pipeline, route, idempotencyKey?, concurrencyKey?, delayMs? (> 0),
          runAt? (epoch ms), priority? (1-9), t? }
  ARGV[3..] the instructions (JSON text) of the items with `t`: item's in ARGV[t], written by
          this script to its data HASH (field i) when the job is created. Only small ones come
          so (a big string through Lua is slow): a big item's instructions are already in its
          data HASH, written by the caller with a plain HSET in the same MULTI, just before; an
          item not created (busy, duplicate) has that HASH deleted again, unless its id names a
          stored job (a replay with the same id).

  Returns one reply per item, in order: "c" .. record JSON (created: the caller has the rest),
  { "d" .. record JSON, caller data HASH flat } (duplicate) or "b" (busy).

  Counters, the index and the queues are written once per call (variadic, in chunks), not once
  per job: the script is atomic, so nobody sees the difference, and Redis does far less work.
]]
local rcall = redis.call
local t = rcall("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxQueued = tonumber(ARGV[1])
local items = cjson.decode(ARGV[2])
local out = {}
local unfinished = tonumber(rcall("HGET", KEYS[3], "unfinished") or "0")
local seq = tonumber(rcall("HGET", KEYS[3], "seq") or "0")
local created = 0
local index = {}
local queues = {}
local queueOrder = {}
local delayedAt = {}
local delayedSteps = {}

for i, item in ipairs(items) do
  local existing = false
  if item.idempotencyKey then
    local id = rcall("HGET", KEYS[2], item.idempotencyKey)
    if id then
      existing = rcall("HGET", KEYS[1], id)
      if existing then existing = { "d" .. existing, rcall("HGETALL", dataKey(KEYS[1], id)) } end
    end
  end
  if existing or unfinished >= maxQueued then
    if existing then out[i] = existing else out[i] = "b" end
    if item.t == nil and rcall("HEXISTS", KEYS[1], item.id) == 0 then rcall("DEL", dataKey(KEYS[1], item.id)) end
  else
    local job = {
      id = item.id, pipeline = item.pipeline, route = item.route, stepIndex = 0, step = item.route[1],
      status = "queued", attempts = 0, idempotencyKey = item.idempotencyKey, concurrencyKey = item.concurrencyKey, createdAt = now, updatedAt = now,
    }
    if item.priority and item.priority > 0 then job.priority = item.priority end
    local due = item.runAt
    if due == nil and item.delayMs then due = now + item.delayMs end
    if due and due > now then
      job.status = "delayed"
      job.runAt = due
    end
    local json = cjson.encode(job)
    rcall("HSET", KEYS[1], item.id, json)
    if item.t then rcall("HSET", dataKey(KEYS[1], item.id), "i", ARGV[item.t]) end
    if item.idempotencyKey then rcall("HSET", KEYS[2], item.idempotencyKey, item.id) end
    unfinished = unfinished + 1
    created = created + 1
    seq = seq + 1
    index[#index + 1] = seq
    index[#index + 1] = item.id
    if job.status == "delayed" then
      delayedAt[#delayedAt + 1] = job.runAt
      delayedAt[#delayedAt + 1] = item.id
      delayedSteps[job.step] = (delayedSteps[job.step] or 0) + 1
    else
      local key = queueKey(KEYS[5] .. job.step, job.priority)
      local queue = queues[key]
      if queue == nil then
        queue = {}
        queues[key] = queue
        queueOrder[#queueOrder + 1] = key
      end
      queue[#queue + 1] = item.id
    end
    out[i] = "c" .. json
  end
end

local CHUNK = 500
local function variadic(command, key, list)
  for from = 1, #list, CHUNK do
    rcall(command, key, unpack(list, from, math.min(from + CHUNK - 1, #list)))
  end
end
if created > 0 then
  rcall("HINCRBY", KEYS[3], "accepted", created)
  rcall("HINCRBY", KEYS[3], "unfinished", created)
  rcall("HSET", KEYS[3], "seq", seq)
  variadic("ZADD", KEYS[4], index)
  for _, key in ipairs(queueOrder) do variadic("RPUSH", key, queues[key]) end
  if #delayedAt > 0 then
    variadic("ZADD", KEYS[6], delayedAt)
    rcall("HINCRBY", KEYS[3], "delayed", #delayedAt / 2)
    for step, n in pairs(delayedSteps) do rcall("HINCRBY", KEYS[3], "step:" .. step .. ":delayedStart", n) end
  end
end
return out
