-- What the wrk scripts of scripts/bench share (mongo-path.lua, tenant-path.lua); each loads it from its own folder:
--   local wrklib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrklib.lua")
-- setup = wrklib.setup keeps every thread and numbers it; wrklib.count, called from response(), counts answers by
-- status; wrklib.report, called from done(), prints the one "<MARKER> {json}" line the harness
-- (scripts/bench/benchlib.py) reads.
local wrklib = { threads = {} }

-- wrk calls setup(thread) once per thread, before init, in the main Lua state: keep the thread (report reads its
-- counters) and set the global thread_number (1, 2, …) in the thread's own state.
function wrklib.setup(thread)
  table.insert(wrklib.threads, thread)
  thread:set("thread_number", #wrklib.threads)
end

-- count(status): one more answer with `status` in the thread's global c<status> when the script defines one (c200,
-- c201, c204, …), else in cother.
function wrklib.count(status)
  local name = "c" .. status
  if type(_G[name]) == "number" then
    _G[name] = _G[name] + 1
  else
    cother = cother + 1
  end
end

-- report(marker, summary, counters): wrk's totals and socket errors, and for each {json key, global name} of counters
-- that per-thread global summed over the threads, as "<marker> {json}".
function wrklib.report(marker, summary, counters)
  local e = summary.errors
  local parts = { string.format('"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
    .. '"status_errors":%d,"timeouts":%d', summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout) }
  for _, counter in ipairs(counters) do
    local total = 0
    for _, thread in ipairs(wrklib.threads) do
      total = total + (thread:get(counter[2]) or 0)
    end
    table.insert(parts, string.format('"%s":%d', counter[1], total))
  end
  io.write(marker .. " {" .. table.concat(parts, ",") .. "}\n")
end

return wrklib
