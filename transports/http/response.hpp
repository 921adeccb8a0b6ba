#pragma once
// HTTP responses as values, their wire form (built into one string so each response goes out in
// one write), the JSON error bodies the transport uses, and Server-Sent Events framing.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/protocol/rpc.hpp"
#include "transports/http/policy.hpp"

namespace mcpd::transports::http {

struct Response {
  unsigned status = 200;
  // Empty: no Content-Type (and usually no body). Always a constant (a literal): a view, so
  // that no response copies one.
  std::string_view content_type;
  std::string body;
  std::vector<Header> headers;
  bool close = false;  // send Connection: close and close after writing

  void set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  const std::string* find(std::string_view name) const;
};

// Serializes the status line, `extra` then the response's own headers, Content-Length and the
// body (omitted for HEAD). `keep_alive` false adds "Connection: close".
std::string serialize(const Response& response, const std::vector<Header>& extra, bool keep_alive,
                      bool head = false);
// The same, appended to `out` (a connection's reused buffer), with "X-Correlation-ID:
// `correlation_id`" (when not empty) before `extra`.
void serialize_into(std::string& out, const Response& response, std::string_view correlation_id,
                    const std::vector<Header>& extra, bool keep_alive, bool head = false);
// The head of a streamed (text/event-stream) response: chunked on HTTP/1.1, raw on HTTP/1.0
// (which then ends by closing the connection).
std::string serialize_stream_head(const Response& response, const std::vector<Header>& extra,
                                  bool chunked, bool keep_alive,
                                  std::string_view correlation_id = {});
// One chunk of a chunked body, and the last chunk.
std::string chunk(std::string_view data);
inline constexpr std::string_view k_last_chunk = "0\r\n\r\n";

std::string_view reason_phrase(unsigned status);

// {"jsonrpc":"2.0","error":{"code":code,"message":message},"id":null}: what the MCP endpoint
// answers for transport-level failures (the spec's "JSON-RPC error response that has no id").
Response jsonrpc_error(unsigned status, int code, std::string message);
// {"error": error, "message": message} for everything that is not the MCP endpoint.
Response error_body(unsigned status, std::string error, std::string message);
Response json_response(unsigned status, const nlohmann::json& body);
// The dispatcher's reply as the body (Reply::write with dump_into).
Response json_response(unsigned status, const core::Reply& reply);
// body.dump() (compact, invalid UTF-8 replaced) appended to `out`, without the allocations of
// a dump() of its own.
void dump_into(std::string& out, const nlohmann::json& value);

// 401 with WWW-Authenticate: Bearer realm="mcpd"[, error="invalid_token"] (RFC 6750 §3).
Response unauthorized(bool credential_given, std::string_view description);

// --- Server-Sent Events ---

// "id: <id>\nevent: message\ndata: <json>\n\n" (id omitted when empty). `data` has no newlines
// (compact JSON), so one data line suffices.
std::string sse_event(std::string_view id, std::string_view data,
                      std::string_view event = "message");
// The priming event of a resumable stream: an id, a retry hint and empty data.
std::string sse_priming(std::string_view id, unsigned retry_ms);
// A comment line: keeps proxies and clients from timing out an idle stream.
inline constexpr std::string_view k_sse_heartbeat = ": keepalive\n\n";

}  // namespace mcpd::transports::http
