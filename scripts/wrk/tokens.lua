-- tokens.lua: GET PATH with "Authorization: Bearer <token>", the tokens read from FILE (one a line), in order.
--
--   wrk -t1 -c32 -d30s -s tokens.lua URL -- FILE PATH COUNT DONEFILE
--
-- The first COUNT responses are timed (from the first request sent to the COUNT-th response received, on a
-- monotonic clock) and then the thread stops and DONEFILE is created, so the caller can end wrk at once instead of
-- waiting out -d (wrk's own requests/s divides by the whole -d). With COUNT equal to the number of tokens, each
-- token is sent exactly once inside the timed window; the at most -c requests already in flight, or sent before
-- the stop takes effect, wrap around to the first tokens (served from the server's cache) and are not counted.
-- With COUNT larger, the pool is cycled (the memory run). One thread only (-t1): every thread would start the pool
-- from the top and reuse tokens.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

local reqs, count, donefile = {}, 0, nil
-- globals, so done() can read them with thread:get
n, sent, answered, ok, t0, t1 = 0, 0, 0, 0, 0, 0

function init(args)
  local file, path = args[1], args[2]
  count, donefile = tonumber(args[3]), args[4]
  for line in io.lines(file) do
    if line ~= "" then
      n = n + 1
      reqs[n] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. line })
    end
  end
  if n == 0 then error("no tokens in " .. file) end
end

function request()
  if sent == 0 then t0 = now() end
  sent = sent + 1
  return reqs[(sent - 1) % n + 1]
end

function response(status, headers, body)
  if answered >= count then return end
  answered = answered + 1
  if status == 200 then ok = ok + 1 end
  if answered == count then
    t1 = now()
    wrk.thread:stop()
    if donefile then local f = io.open(donefile, "w"); if f then f:close() end end
  end
end

function done(summary, latency, requests)
  local a, k, s, t = 0, 0, 0, 0
  for _, th in ipairs(threads) do
    a, k = a + th:get("answered"), k + th:get("ok")
    local e = th:get("t1")
    if e == 0 then e = th:get("t0") + summary.duration / 1e6 end -- not finished: up to wrk's end
    t = math.max(t, e - th:get("t0"))
  end
  local e = summary.errors
  io.write(string.format(
    "wrk-result requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx_or_3xx=%d ok=%d tokens=%d\n",
    a, t, (t > 0 and a / t or 0), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, a - k, k, (threads[1] and threads[1]:get("n") or 0)))
end
