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
  ARGV[2] the pipeline's name
  ARGV[3..] ENQUEUE_FIELDS (8) entries per item, flat ("" for none; no JSON to decode but routes):
    +1 id
    +2 route         JSON array text (decoded once per distinct text)
    +3 idempotency   "k" .. the idempotency key
    +4 concurrency   "k" .. the concurrency key
    +5 delayMs (> 0) +6 runAt (epoch ms)   +7 priority (1-9)
    +8 instructions  JSON text, written by this script to the job's data HASH (field i) when the
                     job is created; "" for a big one (a big string through Lua is slow): the
                     caller wrote it already with a plain HSET in the same MULTI, just before, and
                     an item not created (busy, duplicate) has that HASH deleted again, unless its
                     id names a stored job (a replay with the same id)

  Returns one reply per item, in order: "q" .. Redis TIME in ms (created, queued: the caller
  knows the rest of the record, createdAt = updatedAt = that time), "c" .. record JSON (created,
  delayed), { "d" .. record JSON, caller data HASH flat } (duplicate) or "b" (busy).

  Counters, the index and the queues are written once per call (variadic, in chunks), not once
  per job: the script is atomic, so nobody sees the difference, and Redis does far less work.
]]
local rcall = redis.call
local now = nowMs()
local maxQueued = tonumber(ARGV[1])
local pipeline = ARGV[2]
local out = {}

local FIELDS = 8
local routes = {}
local function prefixed(v)
  if v == "" then return nil end
  return string.sub(v, 2)
end
-- Item i of ARGV (see above), with the field names the rest of the script reads.
local function itemAt(i)
  local b = 2 + (i - 1) * FIELDS
  local routeText = ARGV[b + 2]
  local route = routes[routeText]
  if route == nil then
    route = cjson.decode(routeText)
    routes[routeText] = route
  end
  local text = ARGV[b + 8]
  if text == "" then text = nil end
  return {
    id = ARGV[b + 1], pipeline = pipeline, route = route, idempotencyKey = prefixed(ARGV[b + 3]), concurrencyKey = prefixed(ARGV[b + 4]),
    delayMs = tonumber(ARGV[b + 5]), runAt = tonumber(ARGV[b + 6]), priority = tonumber(ARGV[b + 7]), text = text,
  }
end
local unfinished = tonumber(rcall("HGET", KEYS[3], "unfinished") or "0")
local seq = tonumber(rcall("HGET", KEYS[3], "seq") or "0")
local created = 0
local index = {}
local queues = {}
local queueOrder = {}
local delayedAt = {}
local delayedSteps = {}

for i = 1, (#ARGV - 2) / FIELDS do
  local item = itemAt(i)
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
    if item.text == nil and rcall("HEXISTS", KEYS[1], item.id) == 0 then rcall("DEL", dataKey(KEYS[1], item.id)) end
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
    if item.text then rcall("HSET", dataKey(KEYS[1], item.id), "i", item.text) end
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
    if job.status == "queued" then out[i] = "q" .. now else out[i] = "c" .. json end
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
