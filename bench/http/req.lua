-- wrk script for bench/http: one request kind as fast as the connections allow, counting
-- non-2xx answers (a benchmark that measured 401s would be meaningless).
-- Environment: BENCH_KIND = health | get | put, BENCH_TOKEN, BENCH_IDS (comma separated), BENCH_YEAR.
local ids, token, kind, year, n = {}, "", "get", "2024", 0
bad = 0 -- global: done() reads it from every thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  for x in string.gmatch(os.getenv("BENCH_IDS") or "", "[^,]+") do table.insert(ids, x) end
  token = os.getenv("BENCH_TOKEN") or ""
  kind = os.getenv("BENCH_KIND") or "get"
  year = os.getenv("BENCH_YEAR") or "2024"
  seq = tid * 1000000
  bad = 0
end

function request()
  local id = ids[(n % #ids) + 1]
  n = n + 1
  local h = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  if kind == "health" then
    return wrk.format("GET", "/healthz")
  end
  if kind == "put" then
    seq = seq + 1
    return wrk.format("PUT", "/api/v1/enterprises/" .. id .. "/facts/" .. year, h,
      '{"facts":{"employees":' .. (seq % 100000) .. ',"operating_revenue":"' .. seq .. '.5","rd_expense":"12.25"}}')
  end
  return wrk.format("GET", "/api/v1/enterprises/" .. id, h)
end

conflicts = 0 -- 409s: concurrent PUTs of one enterprise's year (PostgreSQL), counted apart

function response(status, headers, body)
  if status == 409 then conflicts = conflicts + 1
  elseif status < 200 or status >= 300 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total, conflicted = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    conflicted = conflicted + t:get("conflicts")
  end
  io.write(string.format("BENCH_RESULT {\"requests\":%d,\"seconds\":%.3f,\"non2xx\":%d,\"conflicts\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"socket_errors\":%d}\n",
    summary.requests, summary.duration / 1e6, total, conflicted, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
