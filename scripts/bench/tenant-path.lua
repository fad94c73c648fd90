-- wrk script for scripts/bench/tenant-path.sh: the tenant API's request types against tenant-mgmt-service or its peer.
--   wrk ... -s scripts/bench/tenant-path.lua URL -- MODE API_KEY SEEDED RUN
-- MODE: health (GET /health, no key: the HTTP-only baseline), get (GET /api/v1/tenants/{id} of a random seeded
-- tenant; SEEDED is how many the harness seeded), update (PUT /api/v1/tenants/{id} of a random seeded tenant: tier,
-- region and settings, a plain document update), create (POST /api/v1/tenants, which provisions the tenant).
-- RUN names the run (letters, digits and '-'); with the thread's number and a counter it makes every created
-- tenant's name unique, across threads, runs and rounds alike.
-- Each thread counts answers by status; done() prints one "TENANTPATH {json}" line for the harness.

local wrklib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrklib.lua")
local mode, api_key, seeded, run
local counter = 0
-- Per-thread counters, summed by done() through thread:get; thread_number is set by setup (wrklib.setup).
c200, c201, cother, thread_number = 0, 0, 0, 0

setup = wrklib.setup

-- The seeded ids are deterministic (see tenant_path.py), so the script needs only their count.
local function seeded_path()
  return string.format("/api/v1/tenants/bench-%06d", math.random(0, seeded - 1))
end

local function headers()
  return { ["X-API-Key"] = api_key, ["Content-Type"] = "application/json" }
end

function init(args)
  mode, api_key, seeded, run = args[1], args[2], tonumber(args[3] or "0"), args[4] or "run"
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  if mode == "get" or mode == "update" then
    assert(seeded and seeded > 0, mode .. " needs the number of seeded tenants")
  elseif mode ~= "health" and mode ~= "create" then
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  counter = counter + 1
  if mode == "health" then
    return wrk.format("GET", "/health")
  elseif mode == "get" then
    return wrk.format("GET", seeded_path(), { ["X-API-Key"] = api_key })
  elseif mode == "update" then
    local body = '{"tier":"premium","region":"eu-west-1","settings":{"plan":"bench","seats":' .. counter .. '}}'
    return wrk.format("PUT", seeded_path(), headers(), body)
  end
  local body = string.format('{"name":"Bench %s %d-%d","tier":"standard","region":"eu-west-1","settings":{"plan":"bench"}}',
    run, thread_number, counter)
  return wrk.format("POST", "/api/v1/tenants", headers(), body)
end

function response(status, _, _)
  wrklib.count(status)
end

function done(summary, _, _)
  wrklib.report("TENANTPATH", summary, { { "s200", "c200" }, { "s201", "c201" }, { "other", "cother" } })
end
