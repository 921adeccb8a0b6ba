#pragma once
// The HTTP transport's decisions as pure functions: routing, Host and Origin checks (DNS
// rebinding), CORS, correlation ids, Accept/Content-Type negotiation, protocol versions,
// bearer credentials and the classification of JSON-RPC bodies. No sockets, no state: every
// rule here is unit-tested without a server (tests/unit/transports/test_http_policy.cpp).

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpd::transports::http {

using json = nlohmann::json;
using Header = std::pair<std::string, std::string>;

// --- routing (PRODUCT.md §5) ---

enum class Route {
  none,
  mcp,              // POST/GET/DELETE /mcp, /mcp/  (Streamable HTTP)
  legacy_sse,       // GET /mcp/sse, /sse           (2024-11-05 HTTP+SSE: the event stream)
  legacy_messages,  // POST /mcp/messages, /messages (2024-11-05 HTTP+SSE: client messages)
  mcp_health,       // GET /mcp/health
  live,             // GET /live
  ready,            // GET /ready
  health,           // GET /health
  metrics,          // GET /metrics
};

struct RouteMatch {
  Route route = Route::none;
  bool method_allowed = false;
  std::string_view allow;  // the Allow header for 405 and OPTIONS
};

// `stateless` drops GET and DELETE from /mcp: without sessions there is no stream to open and
// nothing to end (405, which clients treat as "not offered").
RouteMatch match_route(std::string_view method, std::string_view path, bool stateless);
// Health, readiness and metrics: never authenticated, never rate limited.
bool is_public_route(Route route);
std::string_view route_name(Route route);

// The request target split at '?'.
struct Target {
  std::string_view path;
  std::string_view query;
};
Target split_target(std::string_view target);
// The percent-decoded value of the first `name` parameter of a query string.
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// True when the query string carries something that looks like a credential
// (access_token=, token=, api_key=, ...): refused, and never used (RFC 6750 §2.3 leaks).
bool query_has_credential(std::string_view query);

// --- Host and Origin (DNS rebinding protection) ---

struct HostPort {
  std::string host;  // lower-case; IPv6 without brackets
  std::optional<std::uint16_t> port;
};
// "example.com", "example.com:8001", "[::1]:8001". nullopt when malformed.
std::optional<HostPort> parse_host(std::string_view text);
// localhost, *.localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);

struct HostPolicy {
  bool loopback_listener = false;          // the connection arrived on a loopback address
  std::uint16_t port = 0;                  // the listener's port
  std::vector<std::string> allowed_hosts;  // extra Host values accepted on loopback ("name" or
                                           // "name:port"), e.g. behind a local reverse proxy
};
// On loopback listeners the Host header must name a loopback host (with the listener's port,
// when a port is given) or an allowed host, so a page on evil.example whose name was rebound to
// 127.0.0.1 is refused. Other listeners accept any Host. An absent Host is accepted (HTTP/1.0).
bool host_allowed(const std::optional<std::string_view>& host, const HostPolicy& policy);

enum class OriginDecision {
  absent,     // no Origin header: not a browser, nothing to check
  same_host,  // Origin names the Host the request was sent to
  allowed,    // listed in allowed_origins (or the list contains "*")
  forbidden,  // 403
};
// Origins compare by scheme, host and port (default ports elided), case-insensitively.
OriginDecision check_origin(const std::optional<std::string_view>& origin,
                            const std::optional<std::string_view>& host,
                            const std::vector<std::string>& allowed_origins);
// "HTTPS://Example.com:443/" -> "https://example.com". nullopt when not an origin.
std::optional<std::string> normalize_origin(std::string_view origin);

// --- the client's address ---

// Who the client is, for rate limits and logs: the peer, or, when the peer is a reverse proxy
// on this machine (a loopback address), the last address of X-Forwarded-For, the one that
// proxy appended (nginx: proxy_add_x_forwarded_for). Anything not shaped like an IP address is
// ignored.
std::string client_address(std::string_view peer,
                           const std::optional<std::string_view>& forwarded_for);

// --- CORS ---

// Access-Control-* headers for an actual (non-preflight) response; none unless the origin was
// accepted.
std::vector<Header> cors_headers(const std::optional<std::string_view>& origin,
                                 OriginDecision decision);
// What a 204 answer to a preflight (OPTIONS with Access-Control-Request-Method) adds to
// cors_headers(). The MCP request headers are allowed, and so are the Mcp-Param-* headers
// (2026-07-28 tool parameters mirrored into headers) the preflight's
// Access-Control-Request-Headers names.
std::vector<Header> preflight_headers(std::string_view allow,
                                      const std::optional<std::string_view>& requested = {});

// --- correlation ids ---

// 1..128 visible ASCII characters (0x21..0x7E).
bool valid_correlation_id(std::string_view id);

// --- content negotiation ---

// Does an Accept header admit `media_type` ("application/json")? Honours type/*, */* and q=0.
bool accepts(std::string_view accept, std::string_view media_type);
// Content-Type application/json (parameters ignored, any case).
bool is_json_content_type(std::string_view content_type);

// --- protocol versions ---

bool supported_protocol_version(std::string_view version);
// The MCP-Protocol-Version a request without the header is assumed to use (spec: 2025-03-26).
inline constexpr std::string_view k_default_protocol_version = "2025-03-26";

// --- credentials ---

struct Bearer {
  enum class Status { missing, malformed, present } status = Status::missing;
  std::string_view token;  // when present
};
// "Authorization: Bearer <token68>" (scheme case-insensitive). Other schemes are malformed.
Bearer parse_bearer(const std::optional<std::string_view>& authorization);

// --- sessions ---

// 256 bits from the kernel CSPRNG as 64 hex digits (visible ASCII, as the spec requires).
std::string new_session_id();
// What we could have issued: 1..128 visible ASCII characters.
bool plausible_session_id(std::string_view id);

// --- JSON-RPC bodies ---

// The ids of a body's requests: one unless it is a batch, and a single id needs no heap block.
using RequestIds = boost::container::small_vector<json, 1>;

struct BodyKind {
  bool batch = false;
  std::size_t requests = 0;       // elements with "method" and "id"
  std::size_t notifications = 0;  // elements with "method" and no "id"
  std::size_t responses = 0;      // "id" and "result"/"error": answers to our requests
  std::size_t invalid = 0;        // anything else (not an object, no method and no answer)
  bool initialize = false;        // an "initialize" request is among them
  std::uint32_t work = 0;         // what the requests cost against the rate limit
                                  // (core::request_cost: tool calls, reads, prompt gets, ...)
};
BodyKind classify(const json& body);
// The ids of the body's requests (as classify counts them), in order: for the streams that
// answer them, and for an error reply when the dispatcher fails. Not part of BodyKind, so a
// request answered at once copies no id.
RequestIds request_ids(const json& body);

}  // namespace mcpd::transports::http
