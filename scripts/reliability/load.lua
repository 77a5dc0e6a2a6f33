-- wrk script for scripts/reliability/load: a fixed request rate with latency measured from
-- each request's *intended* start (wrk2-style correction for coordinated omission).
--
-- Run with as many threads as connections (-t N -c N): each thread then owns one
-- connection, sends its requests on a fixed schedule (LOAD_RATE / N per second, phases
-- spread evenly), and records, for every response, now − intended start. A request that
-- waits behind a slow one is charged the wait, as a user would feel it.
--
-- Environment: LOAD_MODE = mix | reads | login, LOAD_RATE (requests/s, all connections;
-- 0 = as fast as possible, for the login flood), LOAD_CONNS, LOAD_TOKEN, LOAD_IDS (comma
-- separated enterprise ids), LOAD_YEAR, LOAD_LOGIN (JSON body for mode login).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } ladder_timespec;
int clock_gettime(int clk_id, ladder_timespec *tp);
]]
local ts = ffi.new("ladder_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local function split(s)
  local out = {}
  for x in string.gmatch(s or "", "[^,]+") do table.insert(out, x) end
  return out
end

function init(args)
  mode = os.getenv("LOAD_MODE") or "mix"
  local rate = tonumber(os.getenv("LOAD_RATE") or "0")
  local conns = tonumber(os.getenv("LOAD_CONNS") or "1")
  conns_n = conns
  interval = 0
  if rate > 0 then interval = 1000000 * conns / rate end
  ids = split(os.getenv("LOAD_IDS"))
  year = os.getenv("LOAD_YEAR") or "2024"
  auth = { ["Authorization"] = "Bearer " .. (os.getenv("LOAD_TOKEN") or ""), ["Content-Type"] = "application/json" }
  login_body = os.getenv("LOAD_LOGIN") or "{}"
  math.randomseed(tid * 7919 + os.time())
  slot = math.random(0, 9)
  k = 0
  start = nil
  -- Flat tables only: wrk's thread:get crashes copying nested tables. Each latency is
  -- stored as floor(microseconds) * 8 + kind index.
  lat = {}
  errs = { 0, 0, 0, 0, 0 }
  statuses = {}
  seq = tid * 1000000
end

local function begin()
  if not start then
    -- Spread the connections' phases over one interval.
    start = now_us() + ((tid - 1) / math.max(conns_n, 1)) * interval
  end
end

function delay()
  if interval == 0 then return 0 end
  begin()
  local d = (start + k * interval - now_us()) / 1000
  if d < 1 then return 0 end
  return math.floor(d)
end

local function next_kind()
  if mode == "login" then return "login" end
  slot = (slot + 1) % 10
  if mode == "reads" then
    if slot % 2 == 0 then return "read_enterprise" else return "read_eligibility" end
  end
  -- mix: 7 reads, 2 evaluations, 1 write in every 10
  if slot < 4 then return "read_enterprise" end
  if slot < 7 then return "read_eligibility" end
  if slot < 9 then return "evaluation" end
  return "write_facts"
end

function request()
  begin()
  if interval > 0 then
    intended = start + k * interval
  else
    intended = now_us()
  end
  k = k + 1
  kind = next_kind()
  local id = ids[math.random(1, #ids)]
  if kind == "read_enterprise" then
    return wrk.format("GET", "/api/v1/enterprises/" .. id, auth)
  elseif kind == "read_eligibility" then
    return wrk.format("GET", "/api/v1/enterprises/" .. id .. "/eligibility?as_of=2026-06-01", auth)
  elseif kind == "evaluation" then
    return wrk.format("POST", "/api/v1/evaluations", auth,
      '{"tier":"little_giant","as_of":"2026-06-01","enterprise_id":' .. id .. '}')
  elseif kind == "write_facts" then
    seq = seq + 1
    return wrk.format("PUT", "/api/v1/enterprises/" .. id .. "/facts/" .. year, auth,
      '{"facts":{"employees":' .. (seq % 100000) .. ',"operating_revenue":"' .. seq .. '.5","rd_expense":"12.25"}}')
  else
    return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, login_body)
  end
end

local KIND_INDEX = { read_enterprise = 1, read_eligibility = 2, evaluation = 3, write_facts = 4, login = 5 }
local KINDS = { "read_enterprise", "read_eligibility", "evaluation", "write_facts", "login" }

function response(status, headers, body)
  local l = now_us() - intended
  local ki = KIND_INDEX[kind]
  lat[#lat + 1] = math.floor(l) * 8 + ki
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status >= 300 then errs[ki] = errs[ki] + 1 end
end

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  local i = math.ceil(#sorted * p)
  if i < 1 then i = 1 end
  return sorted[i]
end

function done(summary, latency, requests)
  local all, per, errors, st = {}, {}, {}, {}
  for _, thread in ipairs(threads) do
    local tl = thread:get("lat")
    local te = thread:get("errs")
    local ts_ = thread:get("statuses")
    for _, packed in ipairs(tl) do
      local kd = KINDS[packed % 8]
      local v = math.floor(packed / 8)
      per[kd] = per[kd] or {}
      table.insert(per[kd], v)
      table.insert(all, v)
    end
    for ki, n in ipairs(te) do errors[KINDS[ki]] = (errors[KINDS[ki]] or 0) + n end
    for s, n in pairs(ts_) do st[tostring(s)] = (st[tostring(s)] or 0) + n end
  end
  table.sort(all)
  local parts = {}
  local function stats(name, arr, nerr)
    table.sort(arr)
    return string.format('"%s":{"n":%d,"errors":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f}',
      name, #arr, nerr or 0, pct(arr, 0.5) / 1000, pct(arr, 0.9) / 1000, pct(arr, 0.99) / 1000, pct(arr, 0.999) / 1000,
      (#arr > 0 and arr[#arr] or 0) / 1000)
  end
  local total_err = 0
  for kd, arr in pairs(per) do
    table.insert(parts, stats(kd, arr, errors[kd]))
    total_err = total_err + (errors[kd] or 0)
  end
  table.insert(parts, stats("all", all, total_err))
  local sparts = {}
  for s, n in pairs(st) do table.insert(sparts, string.format('"%s":%d', s, n)) end
  local e = summary.errors
  io.write(string.format(
    'LADDER_RESULT {"duration_s":%.3f,"requests":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"non2xx_by_wrk":%d,"statuses":{%s},%s}\n',
    summary.duration / 1e6, summary.requests, e.connect, e.read, e.write, e.timeout, e.status, table.concat(sparts, ","), table.concat(parts, ",")))
end
