-- wrk script: POST pre-built requests read from a file, one per line:
--   <Sentry-Hook-Resource> <Sentry-Hook-Signature> <Sentry-Hook-Timestamp> <Request-Id> <compact JSON body>
-- Usage: wrk ... -s post_requests.lua URL -- FILE THREADS
-- Each thread keeps every THREADS-th line, so threads never send the same body; a thread
-- starts over at the end of its share. done() prints one BENCH_RESULT JSON line for bench/harness.py.

local thread_count = 0
local requests, position = {}, 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

function init(args)
   local path, threads = args[1], tonumber(args[2])
   local line_number = 0
   for line in io.lines(path) do
      if line_number % threads == thread_index then
         requests[#requests + 1] = build_request(line)
      end
      line_number = line_number + 1
   end
   assert(#requests > 0, "no requests for thread " .. thread_index .. " in " .. path)
end

function build_request(line)
   local resource, signature, timestamp, request_id, body = line:match("^(%S+) (%S+) (%S+) (%S+) (.*)$")
   local headers = {
      ["Content-Type"] = "application/json",
      ["Sentry-Hook-Resource"] = resource,
      ["Sentry-Hook-Signature"] = signature,
      ["Sentry-Hook-Timestamp"] = timestamp,
      ["Request-Id"] = request_id,
   }
   return wrk.format("POST", nil, headers, body)
end

function request()
   position = position % #requests + 1
   return requests[position]
end

function done(summary, latency, _)
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
