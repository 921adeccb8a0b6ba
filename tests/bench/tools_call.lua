-- One wrk script for every server: POST a JSON-RPC message to the path given on the command
-- line, with a unique id per request. Environment:
--   BENCH_BODY       the message, with %s where the id goes (default: tools/call echo)
--   BENCH_BODY_FILE  read the message from this file instead (large arguments: the environment
--                    cannot hold a megabyte)
--   BENCH_TOKEN      bearer token (optional)
--   BENCH_SESSION    Mcp-Session-Id (optional; sent with MCP-Protocol-Version)
--   BENCH_HEADERS    extra headers, "Name: value" separated by "|" (optional; for example the
--                    2026-07-28 MCP-Protocol-Version, Mcp-Method and Mcp-Name)
-- When the load ends, done() prints one line wrk's --latency report lacks:
--   Percentiles-us: p50 P p99 P p99.9 P max P
local body = os.getenv("BENCH_BODY") or
  '{"jsonrpc":"2.0","id":"%s","method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
end
-- The id goes where the first %s is; the rest of the body is sent as it is (no format of a
-- megabyte per request, and a % in an argument stays a %).
local at = body:find("%s", 1, true)
local head, tail = body, ""
if at then head, tail = body:sub(1, at - 1), body:sub(at + 2) end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
local session = os.getenv("BENCH_SESSION")
if session and session ~= "" then
  wrk.headers["Mcp-Session-Id"] = session
  wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
end
local extra = os.getenv("BENCH_HEADERS")
if extra and extra ~= "" then
  for name, value in extra:gmatch("([^|:]+):%s*([^|]*)") do wrk.headers[name] = value end
end

local next_thread = 1
function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

local n = 0
function request()
  n = n + 1
  if not at then return wrk.format(nil, nil, nil, body) end
  return wrk.format(nil, nil, nil, head .. tid .. "-" .. n .. tail)
end

function done(summary, latency, requests)
  io.write(string.format("Percentiles-us: p50 %d p99 %d p99.9 %d max %d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
