// Fuzzes the HTTP transport's pure decisions (transports/http/policy.*, modern_policy.*). The
// input is shaped like an HTTP/1.1 request: "METHOD TARGET" on the first line, "Name: value"
// header lines, an empty line, then the body. Every decision a request passes through before
// dispatch is made on it: route, query, Host and Origin, client address, CORS, correlation
// id, content negotiation, versions, bearer credentials, session id, then the body (parsed as
// the transport does, depth-limited) is classified, its era decided and the 2026-07-28 checks
// run (envelope, version, standard and Mcp-Param-* headers, reply status).
//
// Invariants: the counts of classify() add up to the body's elements; a refusal is a 4xx; a
// normalized origin normalizes to itself; an accepted Host is lower-case; valid correlation
// and plausible session ids are 1..128 visible ASCII characters; a present bearer token is
// non-empty; a decoded header value is UTF-8, and a plain one is the value itself.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/utf8.hpp"
#include "transports/http/modern_policy.hpp"
#include "transports/http/policy.hpp"

using namespace mcpd::transports::http;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

struct Request {
  std::string_view method;
  std::string_view target;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (iequals(key, name)) return value;
    return std::nullopt;
  }
};

Request split(std::string_view input) {
  Request request;
  auto next_line = [&input]() {
    const std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const std::string_view first = next_line();
  const std::size_t space = first.find(' ');
  request.method = first.substr(0, space);
  request.target = space == std::string_view::npos ? "/mcp" : first.substr(space + 1);
  while (!input.empty()) {
    const std::string_view line = next_line();
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
  request.body = input;
  return request;
}

bool visible_ascii(std::string_view text) {
  for (const char c : text)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::optional<json> parse_body(std::string_view body) {
  struct TooDeep {};
  try {
    return json::parse(body.begin(), body.end(), [](int depth, json::parse_event_t event, json&) {
      if ((event == json::parse_event_t::object_start ||
           event == json::parse_event_t::array_start) &&
          depth >= 64)
        throw TooDeep{};
      return true;
    });
  } catch (const json::exception&) {  // as Dispatcher::parse: parse_error, number overflow
  } catch (const TooDeep&) {
  }
  return std::nullopt;
}

void check_refusal(const std::optional<Refusal>& refusal) {
  if (!refusal) return;
  check(refusal->status >= 400 && refusal->status < 500, "a refusal is a 4xx");
  check(refusal->code < 0, "a refusal carries a JSON-RPC error code");
}

void headers_and_target(const Request& request) {
  for (const bool stateless : {false, true}) {
    const RouteMatch match = match_route(request.method, split_target(request.target).path, stateless);
    (void)is_public_route(match.route);
    (void)route_name(match.route);
    (void)preflight_headers(match.allow, request.header("Access-Control-Request-Headers"));
  }
  const Target target = split_target(request.target);
  (void)query_param(target.query, "sessionId");
  (void)query_has_credential(target.query);

  const auto host = request.header("Host");
  if (host) {
    if (const auto parsed = parse_host(*host)) {
      for (const char c : parsed->host) check(!std::isupper(static_cast<unsigned char>(c)), "hosts are lower-case");
      (void)is_loopback_host(parsed->host);
    }
  }
  HostPolicy policy;
  policy.loopback_listener = true;
  policy.port = 8001;
  policy.allowed_hosts = {"mcp.internal", "proxy.local:8080"};
  (void)host_allowed(host, policy);

  const auto origin = request.header("Origin");
  if (origin) {
    if (const auto normal = normalize_origin(*origin))
      check(normalize_origin(*normal) == normal, "a normalized origin is its own normal form");
  }
  for (const auto& allowed : {std::vector<std::string>{}, std::vector<std::string>{"*"},
                              std::vector<std::string>{"https://app.example.com"}}) {
    const OriginDecision decision = check_origin(origin, host, allowed);
    const auto cors = cors_headers(origin, decision);
    if (decision == OriginDecision::forbidden || decision == OriginDecision::absent)
      check(cors.empty(), "no CORS headers unless the origin was accepted");
  }
  (void)client_address("127.0.0.1", request.header("X-Forwarded-For"));
  (void)client_address("203.0.113.9", request.header("X-Forwarded-For"));

  if (const auto id = request.header("X-Correlation-ID"); id && valid_correlation_id(*id))
    check(!id->empty() && id->size() <= 128 && visible_ascii(*id), "correlation ids are sane");
  if (const auto accept = request.header("Accept")) {
    (void)accepts(*accept, "application/json");
    (void)accepts(*accept, "text/event-stream");
  }
  if (const auto type = request.header("Content-Type")) (void)is_json_content_type(*type);
  if (const auto version = request.header("MCP-Protocol-Version")) {
    (void)supported_protocol_version(*version);
    (void)modern_era_version(*version);
  }
  const Bearer bearer = parse_bearer(request.header("Authorization"));
  if (bearer.status == Bearer::Status::present) check(!bearer.token.empty(), "a bearer token is not empty");
  if (const auto session = request.header("Mcp-Session-Id"); session && plausible_session_id(*session))
    check(!session->empty() && session->size() <= 128 && visible_ascii(*session),
          "plausible session ids are visible ASCII");
  for (const auto& [name, value] : request.headers) {
    const auto decoded = decode_header_value(value);
    if (!decoded) continue;
    // Base64 carries any UTF-8 (controls too: it mirrors JSON strings); plain values are
    // visible ASCII or HTAB, and stay as they are.
    check(mcpd::core::valid_utf8(*decoded), "decoded values are UTF-8");
    if (value.substr(0, 9) != "=?base64?") check(*decoded == value, "plain values stay as they are");
  }
}

void body(const Request& request) {
  const auto parsed = parse_body(request.body);
  if (!parsed) return;
  const json& message = *parsed;
  const HeaderLookup lookup = [&request](std::string_view name) { return request.header(name); };

  const BodyKind kind = classify(message);
  const std::size_t elements = message.is_array() ? message.size() : 1;
  check(kind.batch == message.is_array(), "classify tells batches apart");
  check(kind.requests + kind.notifications + kind.responses + kind.invalid == elements,
        "classify counts every element once");
  check(request_ids(message).size() == kind.requests, "one id per request");

  const EraDecision era = decide_era(message, lookup);
  check_refusal(era.refusal);
  (void)claimed_version(message);
  (void)modern_reply_status(message);
  if (!message.is_object()) return;

  const json params = message.value("params", json());
  if (params.is_object() && params.contains("_meta")) (void)envelope_problem(params["_meta"]);
  if (const auto claimed = claimed_version(message))
    check_refusal(check_version(*claimed, {"2026-07-28"}));
  check_refusal(check_standard_headers(message, lookup));

  // x-mcp-header annotations: a fixed tool's, and whatever schema the body carries.
  static const json k_schema = json::parse(R"({"type": "object", "properties": {
      "region": {"type": "string", "x-mcp-header": "Region"},
      "count": {"type": "integer", "x-mcp-header": "Count"},
      "dry": {"type": "boolean", "x-mcp-header": "Dry"},
      "nested": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}}}})");
  static const std::vector<ParamHeader> k_declarations = param_headers(k_schema);
  const json arguments = params.is_object() ? params.value("arguments", json()) : json();
  check_refusal(check_param_headers(k_declarations, arguments, lookup));
  if (params.is_object() && params.contains("inputSchema")) {
    const auto declarations = param_headers(params["inputSchema"]);
    check_refusal(check_param_headers(declarations, arguments, lookup));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Request request = split(std::string_view(reinterpret_cast<const char*>(data), size));
  headers_and_target(request);
  body(request);
  return 0;
}
