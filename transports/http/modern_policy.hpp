#pragma once
// Streamable HTTP for protocol 2026-07-28 as pure functions: which POST bodies are served as
// stateless per-request-metadata requests, the checks made on them before they are
// dispatched (their `_meta` envelope, the MCP-Protocol-Version, Mcp-Method, Mcp-Name and
// Mcp-Param-* headers mirrored from the body), and the HTTP status each JSON-RPC error is
// answered with. The order of the checks follows the reference SDK (2.4), so a request with
// several faults gets the error a client built on it expects. Unit-tested without a server
// (tests/unit/transports/test_http_policy.cpp).

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::transports::http {

using json = nlohmann::json;

// A request header by name (case-insensitive); nullopt when absent.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// Why a 2026 request is refused before dispatch: the HTTP status and the JSON-RPC error.
struct Refusal {
  unsigned status = 400;
  int code = 0;
  std::string message;
  json data = nullptr;
};

// The `params._meta["io.modelcontextprotocol/protocolVersion"]` a single request or
// notification claims, whatever its value (a non-string claim is reported as an empty
// string: it is still a claim, refused as a malformed envelope).
std::optional<std::string> claimed_version(const json& message);

// Versions from 2026-07-28 on belong to the stateless era, known to us or not ("YYYY-MM-DD"
// strings order like the dates they are).
bool modern_era_version(std::string_view version);

// What a POST body is, for the era decision.
enum class Era {
  legacy,  // the 2025 transport: initialize, sessions, batches, posted responses
  modern,  // a 2026 request or notification: stateless, no session id
};

struct EraDecision {
  Era era = Era::legacy;
  std::optional<Refusal> refusal;  // set when the body is refused outright
};

// Body-primary: a request whose `_meta` claims a protocol version is modern (a malformed
// envelope is refused with -32602, never served as legacy); `initialize` without a claim is
// legacy; a modern MCP-Protocol-Version header on a request without the claim is a -32602,
// on `initialize` a -32020; a notification with a modern header is modern; a batch holding a
// claim is modern (the dispatcher refuses it: 2026-07-28 has no batches); the MCP-Protocol-Version
// and Mcp-Method headers, when present, must agree with the body (-32020). `body` is parsed
// JSON-RPC (an object or an array).
EraDecision decide_era(const json& body, const HeaderLookup& headers);

// The request's envelope problems: `io.modelcontextprotocol/protocolVersion` (a string) and
// `io.modelcontextprotocol/clientCapabilities` (an object) are required; `clientInfo` must
// be an Implementation and `logLevel` a LoggingLevel when present. Empty when valid.
std::optional<std::string> envelope_problem(const json& meta);

// The claimed version is one this server speaks, else -32022 listing the supported ones.
std::optional<Refusal> check_version(const std::string& claimed,
                                     const std::vector<std::string>& supported);

// The standard request headers of a modern request: MCP-Protocol-Version and Mcp-Method
// present, and Mcp-Name on tools/call, prompts/get and resources/read (Base64 sentinel
// decoded) equal to params.name / params.uri. -32020 otherwise. Notifications, and anything
// else that is not a request (no string method), pass.
std::optional<Refusal> check_standard_headers(const json& message, const HeaderLookup& headers);

// An `x-mcp-header` annotation of a tool's inputSchema: header Mcp-Param-{name} mirrors the
// argument at `path` (a chain of `properties` keys).
struct ParamHeader {
  std::string name;
  std::vector<std::string> path;
  std::string type;  // "string", "integer", "boolean" (or "number": compared numerically)
};
// The annotations reachable from the schema root through `properties` only. Annotations
// anywhere else, or with a value that is not an RFC 9110 token, are not collected.
std::vector<ParamHeader> param_headers(const json& input_schema);

// Every annotated argument present (and not null) in `arguments` has its Mcp-Param-{name}
// header, whose (decoded) value equals it: integers compare numerically, booleans as
// "true"/"false". -32020 otherwise.
std::optional<Refusal> check_param_headers(const std::vector<ParamHeader>& declarations,
                                           const json& arguments, const HeaderLookup& headers);

// A header value in the `=?base64?...?=` form decoded (canonical Base64 of UTF-8), other
// values as they are; nullopt for a malformed sentinel or characters a header value may not
// hold (controls other than HTAB, non-ASCII).
std::optional<std::string> decode_header_value(std::string_view value);

// The HTTP status of a modern request's final reply when it goes out as plain JSON: errors
// the spec gives a status (-32601 -> 404; -32020, -32021, -32022, -32600, -32700 -> 400);
// everything else, including handler errors such as an unknown tool (-32602), is a JSON-RPC
// error in a 200 answer.
unsigned modern_reply_status(const json& reply);

}  // namespace mcpd::transports::http
