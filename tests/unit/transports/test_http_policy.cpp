#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>

#include "transports/http/modern_policy.hpp"
#include "transports/http/policy.hpp"

using namespace mcpd::transports::http;
using nlohmann::json;

TEST_CASE("routes match exactly, with an optional trailing slash", "[transports][http]") {
  CHECK(match_route("POST", "/mcp", false).route == Route::mcp);
  CHECK(match_route("POST", "/mcp/", false).route == Route::mcp);
  CHECK(match_route("GET", "/mcp/sse", false).route == Route::legacy_sse);
  CHECK(match_route("GET", "/sse", false).route == Route::legacy_sse);
  CHECK(match_route("GET", "/sse/", false).route == Route::legacy_sse);
  CHECK(match_route("POST", "/mcp/messages", false).route == Route::legacy_messages);
  CHECK(match_route("POST", "/messages/", false).route == Route::legacy_messages);
  CHECK(match_route("GET", "/mcp/health", false).route == Route::mcp_health);
  CHECK(match_route("GET", "/live/", false).route == Route::live);
  CHECK(match_route("GET", "/ready", false).route == Route::ready);
  CHECK(match_route("GET", "/health/", false).route == Route::health);
  CHECK(match_route("GET", "/metrics", false).route == Route::metrics);
  CHECK(match_route("GET", "/", false).route == Route::none);
  CHECK(match_route("GET", "/mcpx", false).route == Route::none);
  CHECK(match_route("GET", "/mcp//", false).route == Route::none);
  CHECK(match_route("GET", "/MCP", false).route == Route::none);
}

TEST_CASE("wrong methods are refused with the right Allow header", "[transports][http]") {
  auto m = match_route("PUT", "/mcp", false);
  CHECK(m.route == Route::mcp);
  CHECK_FALSE(m.method_allowed);
  CHECK(m.allow == "GET, POST, DELETE, OPTIONS");

  m = match_route("POST", "/health", false);
  CHECK_FALSE(m.method_allowed);
  CHECK(m.allow == "GET, HEAD, OPTIONS");
  CHECK(match_route("HEAD", "/live", false).method_allowed);

  CHECK_FALSE(match_route("POST", "/sse", false).method_allowed);
  CHECK_FALSE(match_route("GET", "/messages", false).method_allowed);

  // Stateless: no stream to open, no session to delete.
  m = match_route("GET", "/mcp", true);
  CHECK_FALSE(m.method_allowed);
  CHECK(m.allow == "POST, OPTIONS");
  CHECK_FALSE(match_route("DELETE", "/mcp", true).method_allowed);
  CHECK(match_route("POST", "/mcp", true).method_allowed);
}

TEST_CASE("only health and metrics are public", "[transports][http]") {
  CHECK(is_public_route(Route::live));
  CHECK(is_public_route(Route::ready));
  CHECK(is_public_route(Route::health));
  CHECK(is_public_route(Route::mcp_health));
  CHECK(is_public_route(Route::metrics));
  CHECK_FALSE(is_public_route(Route::mcp));
  CHECK_FALSE(is_public_route(Route::legacy_sse));
  CHECK_FALSE(is_public_route(Route::legacy_messages));
}

TEST_CASE("targets and query parameters", "[transports][http]") {
  auto t = split_target("/mcp/messages?session_id=abc&x=1");
  CHECK(t.path == "/mcp/messages");
  CHECK(t.query == "session_id=abc&x=1");
  CHECK(split_target("/mcp").query.empty());
  CHECK(query_param("session_id=abc&x=1", "session_id") == "abc");
  CHECK(query_param("a=1&session_id=a%2Fb+c", "session_id") == "a/b c");
  CHECK_FALSE(query_param("a=1", "session_id").has_value());
  CHECK(query_param("flag", "flag") == "");
  CHECK(query_param("bad=%zz", "bad") == "%zz");
}

TEST_CASE("credentials in the query string are recognised", "[transports][http]") {
  CHECK(query_has_credential("access_token=abc"));
  CHECK(query_has_credential("session_id=1&token=abc"));
  CHECK(query_has_credential("API_KEY=abc"));
  CHECK(query_has_credential("access%5Ftoken=abc"));
  CHECK_FALSE(query_has_credential("session_id=abc"));
  CHECK_FALSE(query_has_credential("tokens=2"));
  CHECK_FALSE(query_has_credential(""));
}

TEST_CASE("Host headers parse", "[transports][http]") {
  auto h = parse_host("LocalHost:8001");
  REQUIRE(h);
  CHECK(h->host == "localhost");
  CHECK(h->port == 8001);
  h = parse_host("[::1]:9");
  REQUIRE(h);
  CHECK(h->host == "::1");
  CHECK(h->port == 9);
  h = parse_host("example.com");
  REQUIRE(h);
  CHECK_FALSE(h->port);
  CHECK_FALSE(parse_host(""));
  CHECK_FALSE(parse_host("a:"));
  CHECK_FALSE(parse_host("a:99999"));
  CHECK_FALSE(parse_host("a:b"));
  CHECK_FALSE(parse_host("::1"));  // IPv6 needs brackets
  CHECK_FALSE(parse_host("[::1"));
  CHECK_FALSE(parse_host("evil.com/x"));
  CHECK_FALSE(parse_host("a b"));
}

TEST_CASE("loopback host names", "[transports][http]") {
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("app.localhost"));
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
  CHECK_FALSE(is_loopback_host("127.0.0"));
  CHECK_FALSE(is_loopback_host("127.0.0.256"));
  CHECK_FALSE(is_loopback_host("localhost.evil.com"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("evil.example.com"));
}

TEST_CASE("Host validation on loopback listeners stops DNS rebinding", "[transports][http]") {
  HostPolicy loopback{true, 8001, {}};
  CHECK(host_allowed(std::string_view("localhost:8001"), loopback));
  CHECK(host_allowed(std::string_view("127.0.0.1:8001"), loopback));
  CHECK(host_allowed(std::string_view("[::1]:8001"), loopback));
  CHECK(host_allowed(std::string_view("localhost"), loopback));
  CHECK_FALSE(host_allowed(std::string_view("localhost:8002"), loopback));
  CHECK_FALSE(host_allowed(std::string_view("evil.example.com:8001"), loopback));
  CHECK_FALSE(host_allowed(std::string_view("evil.example.com"), loopback));
  CHECK_FALSE(host_allowed(std::string_view("not a host"), loopback));
  CHECK(host_allowed(std::nullopt, loopback));

  HostPolicy proxied{true, 8001, {"mcp.example.com", "other.example.com:443"}};
  CHECK(host_allowed(std::string_view("mcp.example.com"), proxied));
  CHECK(host_allowed(std::string_view("MCP.example.com:8443"), proxied));
  CHECK(host_allowed(std::string_view("other.example.com:443"), proxied));
  CHECK_FALSE(host_allowed(std::string_view("other.example.com:80"), proxied));

  HostPolicy public_listener{false, 8001, {}};
  CHECK(host_allowed(std::string_view("evil.example.com"), public_listener));
}

TEST_CASE("origins are normalised", "[transports][http]") {
  CHECK(normalize_origin("HTTPS://App.Example.com:443/") == "https://app.example.com");
  CHECK(normalize_origin("http://localhost:8001") == "http://localhost:8001");
  CHECK(normalize_origin("http://[::1]:80") == "http://[::1]");
  CHECK_FALSE(normalize_origin("null"));
  CHECK_FALSE(normalize_origin("https://a.example/path"));
  CHECK_FALSE(normalize_origin("https://user@a.example"));
}

TEST_CASE("Origin checks", "[transports][http]") {
  const std::vector<std::string> allowed{"https://app.example.com"};
  const std::optional<std::string_view> host = std::string_view("localhost:8001");
  CHECK(check_origin(std::nullopt, host, allowed) == OriginDecision::absent);
  CHECK(check_origin(std::string_view("https://app.example.com"), host, allowed) ==
        OriginDecision::allowed);
  CHECK(check_origin(std::string_view("https://APP.example.com:443"), host, allowed) ==
        OriginDecision::allowed);
  CHECK(check_origin(std::string_view("http://localhost:8001"), host, allowed) ==
        OriginDecision::same_host);
  CHECK(check_origin(std::string_view("http://localhost:9999"), host, allowed) ==
        OriginDecision::forbidden);
  CHECK(check_origin(std::string_view("https://evil.example.com"), host, allowed) ==
        OriginDecision::forbidden);
  CHECK(check_origin(std::string_view("null"), host, allowed) == OriginDecision::forbidden);
  CHECK(check_origin(std::string_view("https://evil.example.com"), std::nullopt, allowed) ==
        OriginDecision::forbidden);
  // Host without a port: compare names only.
  CHECK(check_origin(std::string_view("https://mcp.example.com"),
                     std::string_view("mcp.example.com"), {}) == OriginDecision::same_host);
  CHECK(check_origin(std::string_view("https://anything.example"), host, {"*"}) ==
        OriginDecision::allowed);
}

TEST_CASE("CORS headers only for accepted origins", "[transports][http]") {
  CHECK(cors_headers(std::nullopt, OriginDecision::absent).empty());
  CHECK(cors_headers(std::string_view("https://evil.example"), OriginDecision::forbidden).empty());
  const auto headers =
      cors_headers(std::string_view("https://app.example.com"), OriginDecision::allowed);
  REQUIRE(headers.size() == 3);
  CHECK(headers[0] == Header{"Access-Control-Allow-Origin", "https://app.example.com"});
  CHECK(headers[1].second.find("Mcp-Session-Id") != std::string::npos);

  const auto preflight = preflight_headers("GET, POST");
  auto find = [&](const std::string& name) {
    for (const auto& [key, value] : preflight)
      if (key == name) return value;
    return std::string();
  };
  CHECK(find("Access-Control-Allow-Methods") == "GET, POST");
  for (const char* header :
       {"Authorization", "Content-Type", "Mcp-Session-Id", "MCP-Protocol-Version", "Last-Event-ID"})
    CHECK(find("Access-Control-Allow-Headers").find(header) != std::string::npos);
}

TEST_CASE("correlation ids", "[transports][http]") {
  CHECK(valid_correlation_id("abc-123"));
  CHECK(valid_correlation_id(std::string(128, 'x')));
  CHECK_FALSE(valid_correlation_id(std::string(129, 'x')));
  CHECK_FALSE(valid_correlation_id(""));
  CHECK_FALSE(valid_correlation_id("has space"));
  CHECK_FALSE(valid_correlation_id("line\nbreak"));
  CHECK_FALSE(valid_correlation_id("caf\xc3\xa9"));
}

TEST_CASE("Accept negotiation", "[transports][http]") {
  CHECK(accepts("application/json, text/event-stream", "application/json"));
  CHECK(accepts("application/json, text/event-stream", "text/event-stream"));
  CHECK(accepts("text/event-stream, application/json;q=0.9", "application/json"));
  CHECK(accepts("*/*", "text/event-stream"));
  CHECK(accepts("application/*", "application/json"));
  CHECK(accepts("Application/JSON", "application/json"));
  CHECK_FALSE(accepts("application/json", "text/event-stream"));
  CHECK_FALSE(accepts("application/json;q=0, text/event-stream", "application/json"));
  CHECK_FALSE(accepts("text/*", "application/json"));
  CHECK_FALSE(accepts("", "application/json"));
  CHECK_FALSE(accepts("application/jsonx", "application/json"));
}

TEST_CASE("JSON content types", "[transports][http]") {
  CHECK(is_json_content_type("application/json"));
  CHECK(is_json_content_type("application/json; charset=utf-8"));
  CHECK(is_json_content_type("APPLICATION/JSON"));
  CHECK_FALSE(is_json_content_type("text/plain"));
  CHECK_FALSE(is_json_content_type(""));
  CHECK_FALSE(is_json_content_type("application/json-patch+json"));
}

TEST_CASE("protocol versions", "[transports][http]") {
  CHECK(supported_protocol_version("2025-11-25"));
  CHECK(supported_protocol_version("2025-06-18"));
  CHECK(supported_protocol_version("2025-03-26"));
  CHECK(supported_protocol_version("2024-11-05"));
  CHECK_FALSE(supported_protocol_version("2099-01-01"));
  CHECK_FALSE(supported_protocol_version(""));
  CHECK(k_default_protocol_version == "2025-03-26");
}

TEST_CASE("bearer credentials", "[transports][http]") {
  CHECK(parse_bearer(std::nullopt).status == Bearer::Status::missing);
  CHECK(parse_bearer(std::string_view("")).status == Bearer::Status::missing);
  auto b = parse_bearer(std::string_view("Bearer mcpd_abc-DEF_123"));
  CHECK(b.status == Bearer::Status::present);
  CHECK(b.token == "mcpd_abc-DEF_123");
  b = parse_bearer(std::string_view("bearer   tok=="));
  CHECK(b.status == Bearer::Status::present);
  CHECK(b.token == "tok==");
  CHECK(parse_bearer(std::string_view("Basic dXNlcjpwYXNz")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearer")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearer ")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearer a b")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearer =abc")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearer ab=c")).status == Bearer::Status::malformed);
  CHECK(parse_bearer(std::string_view("Bearertoken")).status == Bearer::Status::malformed);
}

TEST_CASE("session ids are long, random and visible ASCII", "[transports][http]") {
  const std::string a = new_session_id();
  const std::string b = new_session_id();
  CHECK(a != b);
  CHECK(a.size() == 64);  // 256 bits
  CHECK(plausible_session_id(a));
  for (const char c : a) CHECK((c >= 0x21 && c <= 0x7e));
  CHECK_FALSE(plausible_session_id(""));
  CHECK_FALSE(plausible_session_id("with space"));
  CHECK_FALSE(plausible_session_id(std::string(129, 'a')));
}

TEST_CASE("bodies are classified", "[transports][http]") {
  auto kind = classify(json::parse(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"progressToken":"p1"}}})"));
  CHECK_FALSE(kind.batch);
  CHECK(kind.requests == 1);
  const auto ids = request_ids(json::parse(
      R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"_meta":{"progressToken":"p1"}}})"));
  CHECK(std::vector<json>(ids.begin(), ids.end()) == std::vector<json>{7});
  CHECK_FALSE(kind.initialize);

  kind = classify(json::parse(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"));
  CHECK(kind.initialize);

  kind = classify(json::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK(kind.requests == 0);
  CHECK(kind.notifications == 1);

  kind = classify(json::parse(R"({"jsonrpc":"2.0","id":"mcpd-1","result":{}})"));
  CHECK(kind.responses == 1);
  CHECK(kind.invalid == 0);

  kind = classify(json::parse(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},
                                  {"jsonrpc":"2.0","method":"n"}, 3, {"foo":1}])"));
  CHECK(kind.batch);
  CHECK(kind.requests == 1);
  CHECK(kind.notifications == 1);
  CHECK(kind.invalid == 2);
  const auto batch_ids = request_ids(json::parse(R"([{"jsonrpc":"2.0","id":"b","method":"ping"},
      {"jsonrpc":"2.0","method":"n"}, {"jsonrpc":"2.0","id":"b","result":{}},
      {"jsonrpc":"2.0","id":null,"method":"tools/list"}])"));
  CHECK(std::vector<json>(batch_ids.begin(), batch_ids.end()) == std::vector<json>{"b", nullptr});
  CHECK(request_ids(json::parse(R"({"jsonrpc":"2.0","method":"n"})")).empty());

  kind = classify(json("text"));
  CHECK(kind.invalid == 1);
}

TEST_CASE("a body's rate-limit cost counts its work requests only", "[transports][http]") {
  auto work = [](const char* body) { return classify(json::parse(body)).work; };
  CHECK(work(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}})") == 1);
  CHECK(work(R"({"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}})") == 1);
  CHECK(work(R"({"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{}})") == 1);
  CHECK(work(R"({"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{}})") == 1);
  for (const char* free : {"initialize", "server/discover", "ping", "tools/list", "prompts/list",
                           "resources/list", "resources/templates/list", "resources/subscribe",
                           "subscriptions/listen", "logging/setLevel"}) {
    const json request = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", free}};
    CHECK(classify(request).work == 0);
  }
  // Notifications and responses are no work, even when they name a work method.
  CHECK(work(R"({"jsonrpc":"2.0","method":"tools/call"})") == 0);
  CHECK(work(R"({"jsonrpc":"2.0","id":3,"result":{}})") == 0);
  CHECK(work(R"({"jsonrpc":"2.0","id":1,"method":7})") == 0);
  // A batch costs the sum of its work items.
  CHECK(work(R"([{"jsonrpc":"2.0","id":1,"method":"tools/call"},
                 {"jsonrpc":"2.0","id":2,"method":"tools/list"},
                 {"jsonrpc":"2.0","id":3,"method":"resources/read"},
                 {"jsonrpc":"2.0","method":"notifications/cancelled"},
                 {"jsonrpc":"2.0","id":4,"method":"tools/call"}])") == 3);
}

TEST_CASE("the client address behind a local reverse proxy", "[transports][http]") {
  CHECK(client_address("203.0.113.7", std::nullopt) == "203.0.113.7");
  // Only a proxy on this machine is believed.
  CHECK(client_address("203.0.113.7", std::string_view("198.51.100.1")) == "203.0.113.7");
  CHECK(client_address("127.0.0.1", std::nullopt) == "127.0.0.1");
  CHECK(client_address("127.0.0.1", std::string_view("198.51.100.1")) == "198.51.100.1");
  CHECK(client_address("::1", std::string_view("spoofed, 198.51.100.2 ")) == "198.51.100.2");
  CHECK(client_address("127.0.0.1", std::string_view("2001:db8::1")) == "2001:db8::1");
  CHECK(client_address("127.0.0.1", std::string_view("not an address")) == "127.0.0.1");
  CHECK(client_address("127.0.0.1", std::string_view("")) == "127.0.0.1");
}

// --- 2026-07-28 requests ---

namespace {

// Headers as a test gives them; names compare case-insensitively, as Beast's do.
HeaderLookup lookup(std::vector<std::pair<std::string, std::string>> headers) {
  return [headers = std::move(headers)](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& [key, value] : headers) {
      if (key.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < key.size(); ++i)
        same = same && std::tolower(static_cast<unsigned char>(key[i])) ==
                           std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return std::string_view(value);
    }
    return std::nullopt;
  };
}

json envelope(std::string version = "2026-07-28") {
  return json{{"io.modelcontextprotocol/protocolVersion", std::move(version)},
              {"io.modelcontextprotocol/clientCapabilities", json::object()}};
}

json modern_request(std::string method, json params = json::object(), json meta = envelope()) {
  params["_meta"] = std::move(meta);
  return json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", std::move(method)}, {"params", params}};
}

}  // namespace

TEST_CASE("2026 requests are told apart by their body", "[transports][http][modern]") {
  const auto none = lookup({});
  CHECK(decide_era(modern_request("tools/list"), none).era == Era::modern);
  CHECK_FALSE(decide_era(modern_request("tools/list"), none).refusal);
  const json legacy{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}};
  CHECK(decide_era(legacy, none).era == Era::legacy);
  CHECK(decide_era(legacy, lookup({{"MCP-Protocol-Version", "2025-11-25"}})).era == Era::legacy);
  const json initialize{{"jsonrpc", "2.0"},
                        {"id", 0},
                        {"method", "initialize"},
                        {"params", {{"protocolVersion", "2025-11-25"}}}};
  CHECK(decide_era(initialize, none).era == Era::legacy);
  // A claim of any version goes the modern way (and is refused there when unsupported).
  CHECK(decide_era(modern_request("tools/list", {}, envelope("2025-11-25")), none).era ==
        Era::modern);
  CHECK(claimed_version(modern_request("ping")) == "2026-07-28");
  CHECK_FALSE(claimed_version(legacy));
  CHECK(modern_era_version("2026-07-28"));
  CHECK(modern_era_version("2027-01-01"));
  CHECK_FALSE(modern_era_version("2025-11-25"));
  // A posted response stays legacy whatever the header says.
  const json response{{"jsonrpc", "2.0"}, {"id", "mcpd-1"}, {"result", json::object()}};
  CHECK(decide_era(response, lookup({{"MCP-Protocol-Version", "2026-07-28"}})).era == Era::legacy);
}

TEST_CASE("malformed 2026 envelopes are refused with -32602 and 400",
          "[transports][http][modern]") {
  json meta = envelope();
  meta.erase("io.modelcontextprotocol/clientCapabilities");
  auto decision = decide_era(modern_request("tools/list", {}, meta), lookup({}));
  REQUIRE(decision.refusal);
  CHECK(decision.refusal->status == 400);
  CHECK(decision.refusal->code == -32602);
  CHECK(decision.refusal->message.find("clientCapabilities") != std::string::npos);

  CHECK(envelope_problem(envelope()) == std::nullopt);
  meta = envelope();
  meta["io.modelcontextprotocol/protocolVersion"] = 2026;
  CHECK(envelope_problem(meta));
  meta = envelope();
  meta["io.modelcontextprotocol/clientInfo"] = {{"name", "x"}};
  CHECK(envelope_problem(meta));
  meta["io.modelcontextprotocol/clientInfo"] = {{"name", "x"}, {"version", "1"}};
  CHECK_FALSE(envelope_problem(meta));
  meta["io.modelcontextprotocol/logLevel"] = "loud";
  CHECK(envelope_problem(meta));
  meta["io.modelcontextprotocol/logLevel"] = "warning";
  CHECK_FALSE(envelope_problem(meta));

  // A modern header on a request without the claim: the envelope is missing.
  const json bare{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}};
  decision = decide_era(bare, lookup({{"MCP-Protocol-Version", "2026-07-28"}}));
  REQUIRE(decision.refusal);
  CHECK(decision.refusal->code == -32602);
  CHECK(decision.refusal->status == 400);
}

TEST_CASE("headers that contradict the body are a HeaderMismatch", "[transports][http][modern]") {
  auto refusal =
      decide_era(modern_request("tools/list"), lookup({{"MCP-Protocol-Version", "2025-11-25"}}))
          .refusal;
  REQUIRE(refusal);
  CHECK(refusal->code == -32020);
  CHECK(refusal->status == 400);
  CHECK(refusal->data["mismatch"]["header"] == "2025-11-25");

  refusal =
      decide_era(modern_request("tools/list"), lookup({{"Mcp-Method", "tools/call"}})).refusal;
  REQUIRE(refusal);
  CHECK(refusal->code == -32020);
  // Optional whitespace around a value does not count.
  CHECK_FALSE(
      decide_era(modern_request("tools/list"),
                 lookup({{"MCP-Protocol-Version", " 2026-07-28 "}, {"Mcp-Method", "tools/list"}}))
          .refusal);

  // The 2025 handshake sent with a 2026 header.
  const json initialize{
      {"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"}, {"params", json::object()}};
  refusal = decide_era(initialize, lookup({{"MCP-Protocol-Version", "2026-07-28"}})).refusal;
  REQUIRE(refusal);
  CHECK(refusal->code == -32020);
}

TEST_CASE("a batch holding a 2026 request is modern, the dispatcher decides on batches",
          "[transports][http][modern]") {
  const json modern = json::array(
      {json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}, modern_request("tools/list")});
  const auto decision = decide_era(modern, lookup({}));
  CHECK(decision.era == Era::modern);
  CHECK_FALSE(decision.refusal);
  const auto legacy = decide_era(
      json::array({json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}}), lookup({}));
  CHECK(legacy.era == Era::legacy);
  CHECK_FALSE(legacy.refusal);
}

TEST_CASE("2026 notifications follow their claim or their header", "[transports][http][modern]") {
  const json note{
      {"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 1}}}};
  CHECK(decide_era(note, lookup({})).era == Era::legacy);
  CHECK(decide_era(note, lookup({{"MCP-Protocol-Version", "2026-07-28"}})).era == Era::modern);
  const auto refusal = decide_era(note, lookup({{"MCP-Protocol-Version", "2026-07-28"},
                                                {"Mcp-Method", "notifications/progress"}}))
                           .refusal;
  REQUIRE(refusal);
  CHECK(refusal->code == -32020);
}

TEST_CASE("unsupported claimed versions get -32022 with the supported list",
          "[transports][http][modern]") {
  const std::vector<std::string> supported{"2026-07-28"};
  CHECK_FALSE(check_version("2026-07-28", supported));
  const auto refusal = check_version("2099-01-01", supported);
  REQUIRE(refusal);
  CHECK(refusal->code == -32022);
  CHECK(refusal->status == 400);
  CHECK(refusal->data["supported"] == json::array({"2026-07-28"}));
  CHECK(refusal->data["requested"] == "2099-01-01");
}

TEST_CASE("the standard headers of a 2026 request", "[transports][http][modern]") {
  const json call = modern_request("tools/call", {{"name", "echo"}});
  const auto full = [](std::string name) {
    return lookup({{"MCP-Protocol-Version", "2026-07-28"},
                   {"Mcp-Method", "tools/call"},
                   {"Mcp-Name", std::move(name)}});
  };
  CHECK_FALSE(check_standard_headers(call, full("echo")));
  CHECK(check_standard_headers(call, full("other"))->code == -32020);
  // Base64 sentinel values are decoded before they are compared.
  CHECK_FALSE(check_standard_headers(call, full("=?base64?ZWNobw==?=")));
  CHECK(check_standard_headers(call, full("=?base64?ZWNobw?=")));  // not canonical
  CHECK(check_standard_headers(call, lookup({{"Mcp-Method", "tools/call"}, {"Mcp-Name", "echo"}}))
            ->code == -32020);  // no MCP-Protocol-Version
  CHECK(check_standard_headers(
      call, lookup({{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Name", "echo"}})));
  CHECK(check_standard_headers(
      call, lookup({{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/call"}})));

  const json read = modern_request("resources/read", {{"uri", "file:///a b"}});
  CHECK_FALSE(check_standard_headers(read, lookup({{"MCP-Protocol-Version", "2026-07-28"},
                                                   {"Mcp-Method", "resources/read"},
                                                   {"Mcp-Name", "file:///a b"}})));
  // No Mcp-Name for methods that have no name.
  CHECK_FALSE(check_standard_headers(
      modern_request("tools/list"),
      lookup({{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", "tools/list"}})));
}

TEST_CASE("what is not a request passes the standard header checks", "[transports][http][modern]") {
  // A response, or an id without a string method (found by tests/fuzz/fuzz_http_policy):
  // not a request, so there is nothing to compare the headers with.
  const auto none = lookup({});
  CHECK_FALSE(check_standard_headers(
      json::parse(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}})"), none));
  CHECK_FALSE(check_standard_headers(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", 7}}, none));
  CHECK_FALSE(check_standard_headers(json::array({modern_request("tools/list")}), none));
}

TEST_CASE("header values are decoded, and refused when unsafe", "[transports][http][modern]") {
  CHECK(decode_header_value("us-west1") == "us-west1");
  CHECK(decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=") ==
        "Hello, \xe4\xb8\x96\xe7\x95\x8c");
  CHECK(decode_header_value("=?base64?IHBhZGRlZCA=?=") == " padded ");
  CHECK_FALSE(decode_header_value("=?base64?/w==?="));  // not UTF-8
  CHECK_FALSE(decode_header_value("=?base64?!!!!?="));
  CHECK_FALSE(decode_header_value("caf\xc3\xa9"));  // raw non-ASCII
  CHECK_FALSE(decode_header_value("a\x01"));
}

TEST_CASE("x-mcp-header annotations and their Mcp-Param headers", "[transports][http][modern]") {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "region": {"type": "string", "x-mcp-header": "Region"},
      "count": {"type": "integer", "x-mcp-header": "Count"},
      "dry": {"type": "boolean", "x-mcp-header": "Dry"},
      "nested": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
      "list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}},
      "bad": {"type": "string", "x-mcp-header": "has space"},
      "blob": {"type": "object", "x-mcp-header": "Blob"}
    }
  })");
  const auto declarations = param_headers(schema);
  std::vector<std::string> names;
  for (const auto& d : declarations) names.push_back(d.name);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"Count", "Dry", "Region", "Zone"});

  const json arguments{
      {"region", "us-west1"}, {"count", 42}, {"dry", true}, {"nested", {{"zone", "b"}}}};
  const auto all = lookup({{"Mcp-Param-Region", "us-west1"},
                           {"Mcp-Param-Count", "42.0"},
                           {"Mcp-Param-Dry", "true"},
                           {"Mcp-Param-Zone", "=?base64?Yg==?="}});
  CHECK_FALSE(check_param_headers(declarations, arguments, all));

  auto refusal = check_param_headers(declarations, arguments,
                                     lookup({{"Mcp-Param-Region", "us-west1"},
                                             {"Mcp-Param-Count", "41"},
                                             {"Mcp-Param-Dry", "true"},
                                             {"Mcp-Param-Zone", "b"}}));
  REQUIRE(refusal);
  CHECK(refusal->code == -32020);
  CHECK(refusal->message.find("Mcp-Param-Count") != std::string::npos);
  // A value in the body without its header.
  refusal = check_param_headers(declarations, json{{"region", "eu"}}, lookup({}));
  REQUIRE(refusal);
  CHECK(refusal->status == 400);
  // Absent or null arguments expect no header (and a stray header is ignored).
  CHECK_FALSE(check_param_headers(declarations, json{{"region", nullptr}},
                                  lookup({{"Mcp-Param-Count", "9"}})));
}

TEST_CASE("a 2026 reply's HTTP status follows its error", "[transports][http][modern]") {
  auto error = [](int code) {
    return json{{"jsonrpc", "2.0"}, {"id", 1}, {"error", {{"code", code}, {"message", "m"}}}};
  };
  CHECK(modern_reply_status(json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}}) ==
        200);
  CHECK(modern_reply_status(error(-32601)) == 404);
  CHECK(modern_reply_status(error(-32021)) == 400);
  CHECK(modern_reply_status(error(-32022)) == 400);
  CHECK(modern_reply_status(error(-32020)) == 400);
  CHECK(modern_reply_status(error(-32602)) == 200);  // e.g. an unknown tool: in-band
  CHECK(modern_reply_status(error(-32603)) == 200);
  // Found by fuzz_http_policy: a code that is not an integer no longer throws.
  CHECK(modern_reply_status(json{{"error", {{"code", "-32601"}}}}) == 200);
  CHECK(modern_reply_status(json{{"error", {{"code", -32601.5}}}}) == 200);
  CHECK(modern_reply_status(json{{"error", {{"message", "no code"}}}}) == 200);
}

TEST_CASE("preflight allows the 2026 headers", "[transports][http][modern]") {
  const auto headers = preflight_headers("POST, OPTIONS", "mcp-method, Mcp-Param-Region, x-evil");
  std::string allowed;
  for (const auto& [name, value] : headers)
    if (name == "Access-Control-Allow-Headers") allowed = value;
  CHECK(allowed.find("Mcp-Method") != std::string::npos);
  CHECK(allowed.find("Mcp-Name") != std::string::npos);
  CHECK(allowed.find("Mcp-Param-Region") != std::string::npos);
  CHECK(allowed.find("x-evil") == std::string::npos);
}
