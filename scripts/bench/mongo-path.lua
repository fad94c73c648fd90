-- wrk script for scripts/bench/mongo-path.sh: the task API's four request types against any of the three servers.
--   wrk ... -s scripts/bench/mongo-path.lua URL -- MODE API_KEY [SEEDED]
-- MODE: get (GET /api/v1/tasks/{id} of a random seeded task; SEEDED is how many ids the harness seeded),
-- create (POST /api/v1/tasks), claim (POST /api/v1/tasks/claim), claimcomplete (claim, then complete what was claimed).
-- Each thread counts answers by status; done() prints one "MONGOPATH {json}" line for the harness.
--
-- claimcomplete: wrk tells a script neither which connection a response arrived on nor which request it answers, so
-- the state machine is per thread, not per connection: a claim's 200 (the only answer carrying claim_token) queues its
-- task_id and token, and the thread's next request completes the oldest queued task, or claims when none is queued.
-- Every complete thus uses a token from a real claim answered before it, and claims and completes stay one to one.

local wrklib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrklib.lua")
local mode, api_key, seeded
local static_request
local queue, head, tail = {}, 1, 0
-- Per-thread counters, summed by done() through thread:get.
c200, c201, c204, cother, claimed, completed = 0, 0, 0, 0, 0, 0
local counters = { { "s200", "c200" }, { "s201", "c201" }, { "s204", "c204" }, { "other", "cother" }, { "claimed", "claimed" },
  { "completed", "completed" } }

setup = wrklib.setup

-- The seeded ids are deterministic (see mongo-path.py), so the script needs only their count.
local function seeded_id(index)
  return string.format("00000000-0000-4000-8000-%012d", index)
end

local function headers()
  return { ["X-API-Key"] = api_key, ["Content-Type"] = "application/json" }
end

local claim_body = '{"worker_id":"bench-worker","lease_seconds":300}'
local create_body = '{"task_type":"BENCH","request":{"content":{"text":"benchmark"},"metadata":{"user_id":"bench"}},'
  .. '"template":{"service_type":"BENCH","parameters":{"model":"none"}},"tags":{"service":"bench"},"priority":0}'
local complete_result = '"result":{"text":"done"}'

function init(args)
  mode, api_key, seeded = args[1], args[2], tonumber(args[3] or "0")
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  if mode == "create" then
    static_request = wrk.format("POST", "/api/v1/tasks", headers(), create_body)
  elseif mode == "claim" or mode == "claimcomplete" then
    static_request = wrk.format("POST", "/api/v1/tasks/claim", headers(), claim_body)
  elseif mode == "get" then
    assert(seeded and seeded > 0, "get needs the number of seeded tasks")
  else
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  if mode == "get" then
    return wrk.format("GET", "/api/v1/tasks/" .. seeded_id(math.random(0, seeded - 1)), { ["X-API-Key"] = api_key })
  end
  if mode == "claimcomplete" and head <= tail then
    local item = queue[head]
    queue[head] = nil
    head = head + 1
    local body = '{"claim_token":"' .. item[2] .. '",' .. complete_result .. '}'
    return wrk.format("POST", "/api/v1/tasks/" .. item[1] .. "/complete", headers(), body)
  end
  return static_request
end

function response(status, _, body)
  wrklib.count(status)
  if status == 200 and mode == "claimcomplete" then
    -- The peer writes compact JSON, libbson's extended JSON puts spaces around the colon: allow both.
    local token = body:match('"claim_token"%s*:%s*"([%x%-]+)"')
    if token then
      claimed = claimed + 1
      tail = tail + 1
      queue[tail] = { body:match('"task_id"%s*:%s*"([%x%-]+)"'), token }
    else
      completed = completed + 1
    end
  end
end

function done(summary, _, _)
  wrklib.report("MONGOPATH", summary, counters)
end
