-- wrk script for edge.test.mjs: POST /mcp with a fresh random (and so invalid) bearer token on
-- every request, on keep-alive connections, until REQUESTS responses have arrived (one thread).
-- With FORWARDED=1 each request also claims a random client address in X-Forwarded-For (the
-- server trusts it from a loopback peer, as from a local reverse proxy), so the failed-auth
-- limiter sees as many addresses as requests. The status counts are printed at the end as
-- `statuses {"401": n, "429": n, ...}`. One thread only (-t1).
local limit = tonumber(os.getenv("REQUESTS") or "20000")
local forwarded = os.getenv("FORWARDED") == "1"
local body = '{"jsonrpc":"2.0","id":1,"method":"ping"}'
local alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  seen = 0
  math.randomseed(os.time())
end

local function token()
  local t = {}
  for i = 1, 43 do
    local k = math.random(1, #alphabet)
    t[i] = alphabet:sub(k, k)
  end
  return "mcpd_" .. table.concat(t)
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. token(),
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
  }
  if forwarded then
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255),
      math.random(0, 255), math.random(1, 254))
  end
  return wrk.format("POST", "/mcp", headers, body)
end

local function report(c)
  local parts = {}
  for status, n in pairs(c) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  io.write("statuses {" .. table.concat(parts, ", ") .. "}\n")
  io.flush()
end

-- wrk runs for its whole duration even when a thread stops: the thread reports and ends the
-- process itself once it has its count.
function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
  seen = seen + 1
  if seen == limit then
    report(counts)
    os.exit(0)
  end
end

-- Only when the duration ran out first.
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do report(thread:get("counts")) end
end
