-- wrk script: GET requests with a Range of BENCH_RANGE_BYTES at a random aligned offset
-- within BENCH_FILE_BYTES, and a JSON summary line (BENCH_JSON) for scripts/bench/wrk.ts.
local fileBytes = tonumber(os.getenv("BENCH_FILE_BYTES"))
local rangeBytes = tonumber(os.getenv("BENCH_RANGE_BYTES"))
local slots = math.max(1, math.floor(fileBytes / rangeBytes))
math.randomseed(os.time())

request = function()
  local start = math.random(0, slots - 1) * rangeBytes
  return wrk.format("GET", nil, { Range = "bytes=" .. start .. "-" .. math.min(fileBytes, start + rangeBytes) - 1 })
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format('\nBENCH_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"socketErrors":%d,"statusErrors":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, summary.bytes, errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(99)))
end
