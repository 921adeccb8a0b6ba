-- One wrk script for every server: POST a JSON-RPC message to the path given on the command
-- line, with a unique id per request. Environment:
--   BENCH_BODY     the message, with %s where the id goes (default: tools/call echo)
--   BENCH_TOKEN    bearer token (optional)
--   BENCH_SESSION  Mcp-Session-Id (optional; sent with MCP-Protocol-Version)
local body = os.getenv("BENCH_BODY") or
  '{"jsonrpc":"2.0","id":"%s","method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
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

local next_thread = 1
function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

local n = 0
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(body, tid .. "-" .. n))
end
