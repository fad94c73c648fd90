-- wrk script for scripts/bench/user-data.sh: user-data-service's GET /api/v1/users/{id} and POST /api/v1/auth/login.
--   wrk ... -s scripts/bench/user-data.lua URL -- MODE API_KEY SEEDED FIRST PASSWORD
-- MODE: get (GET /api/v1/users/{id} of a random seeded user, as a service caller without a tenant) or login (log in
-- as a random seeded user by username). The harness seeds users FIRST .. FIRST+SEEDED-1 with deterministic ids
-- (00000000-0000-4000-8000-<n, 12 digits>) and usernames (bench-user-<n>), so the script needs only the range.
-- done() prints one "USERBENCH {json}" line with the answers counted by status.

local mode, api_key, seeded, first, password
-- Per-thread counters, read by done() through thread:get.
c200, cother = 0, 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode, api_key, seeded, first, password = args[1], args[2], tonumber(args[3]), tonumber(args[4]), args[5]
  assert(mode == "get" or mode == "login", "unknown mode " .. tostring(mode))
  assert(seeded and seeded > 0 and first, "needs SEEDED and FIRST")
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  local n = first + math.random(0, seeded - 1)
  if mode == "get" then
    return wrk.format("GET", string.format("/api/v1/users/00000000-0000-4000-8000-%012d", n), { ["X-API-Key"] = api_key })
  end
  local body = string.format('{"username":"bench-user-%d","password":"%s"}', n, password)
  return wrk.format("POST", "/api/v1/auth/login", { ["X-API-Key"] = api_key, ["Content-Type"] = "application/json" }, body)
end

function response(status, _, _)
  if status == 200 then
    c200 = c200 + 1
  else
    cother = cother + 1
  end
end

function done(summary, _, _)
  local ok, other = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("c200") or 0)
    other = other + (thread:get("cother") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'USERBENCH {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
      .. '"timeouts":%d,"s200":%d,"other":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, ok, other))
end
