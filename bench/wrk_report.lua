-- wrk script for bench/load.py: bounds a run by a request count (the time
-- bound is wrk's -d) and prints one JSON line the bench reads back.
-- A response other than 200 counts as an error: a lost session would
-- otherwise turn every page into a fast 302 to the login page.

local max_requests = tonumber(os.getenv("BENCH_WRK_MAX_REQUESTS") or "200000")
local threads = {}
count = 0
not_ok = 0
stopped = 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  count = count + 1
  if status ~= 200 then
    not_ok = not_ok + 1
  end
  if count >= max_requests then
    stopped = 1
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, hit = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
    hit = hit + thread:get("stopped")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "not_200": %d, "count_bound_hit": %d, '
      .. '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    bad, hit, latency:percentile(50), latency:percentile(99)))
end
