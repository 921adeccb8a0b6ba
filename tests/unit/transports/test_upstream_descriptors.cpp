// check-tools on http handlers: methods, paths, reserved headers, placeholders in path,
// query, headers and body, unknown upstreams.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/descriptors/descriptor.hpp"

namespace fs = std::filesystem;
using namespace mcpd::core;

namespace {

LoadResult load_text(const std::string& text, LoadOptions options = {}) {
  std::string pattern = (fs::temp_directory_path() / "mcpd-upstream-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  std::ofstream(dir / "tools.json") << text;
  LoadResult result = load_descriptors({dir / "tools.json"}, options);
  fs::remove_all(dir);
  return result;
}

// One tool whose http handler is `handler` (a JSON object's members).
std::string tool_with(const std::string& handler) {
  return R"({"tools": [{"name": "t", "description": "d",
  "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}},
  "handler": {"http": {"upstream": "django", )" +
         handler + "}}}]}";
}

std::string rules(const LoadResult& result) {
  std::string out;
  for (const auto& d : result.diagnostics) out += d.rule + ": " + d.message + "\n";
  return out;
}

bool has_rule(const LoadResult& result, const std::string& rule, const std::string& part = {}) {
  for (const auto& d : result.diagnostics)
    if (d.rule == rule && d.message.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a well-formed http handler loads", "[transports][upstream]") {
  auto result = load_text(tool_with(R"("method": "PATCH", "path": "/api/v1/x/{id}/",
      "query": {"q": "{id}"}, "headers": {"X-Tenant": "{id}", "Accept": "text/csv"},
      "body": {"id": "{id}", "n": ["{id}"]}, "retry": true, "timeout_ms": 1000)"));
  INFO(rules(result));
  CHECK(result.ok());
  CHECK(result.diagnostics.empty());
}

TEST_CASE("http methods are the seven of RFC 9110 that carry JSON APIs", "[transports][upstream]") {
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    INFO(method);
    CHECK(load_text(tool_with(std::string(R"("method": ")") + method + R"(", "path": "/x")")).ok());
  }
  for (const char* method : {"TRACE", "CONNECT", "get", "FETCH", ""}) {
    INFO(method);
    auto result =
        load_text(tool_with(std::string(R"("method": ")") + method + R"(", "path": "/x")"));
    CHECK(has_rule(result, "handler", "'method' must be one of"));
  }
}

TEST_CASE("the path starts with '/'", "[transports][upstream]") {
  CHECK(has_rule(load_text(tool_with(R"("path": "api/v1/")")), "handler", "must start with '/'"));
  CHECK(has_rule(load_text(tool_with(R"("path": "{id}/x")")), "handler", "must start with '/'"));
  CHECK(has_rule(load_text(tool_with(R"("method": "GET")")), "handler"));  // path is required
}

TEST_CASE("headers mcpd sets itself are refused", "[transports][upstream]") {
  for (const char* header : {"Authorization", "authorization", "Host", "Content-Length",
                             "Transfer-Encoding", "Connection", "X-MCP-User", "x-correlation-id"}) {
    INFO(header);
    auto result =
        load_text(tool_with(std::string(R"("path": "/x", "headers": {")") + header + R"(": "v"})"));
    CHECK(has_rule(result, "http-header", "is set by mcpd"));
    CHECK_FALSE(result.ok());
  }
  auto crlf = load_text(tool_with(R"("path": "/x", "headers": {"X-A": "a\r\nb"})"));
  CHECK(has_rule(crlf, "handler", "line breaks"));
  auto bad_name = load_text(tool_with(R"("path": "/x", "headers": {"X A": "b"})"));
  CHECK(has_rule(bad_name, "handler", "not a valid header name"));
}

TEST_CASE("placeholders in path, query, headers and body name declared parameters",
          "[transports][upstream]") {
  for (const char* handler :
       {R"("path": "/x/{nope}/")", R"("path": "/x", "query": {"q": "{nope}"})",
        R"("path": "/x", "headers": {"X-A": "v-{nope}"})",
        R"("path": "/x", "body": {"deep": [{"a": "{nope}"}]})"}) {
    INFO(handler);
    auto result = load_text(tool_with(handler));
    CHECK(has_rule(result, "unknown-placeholder", "nope"));
  }
  // Query keys are names, not templates.
  CHECK(load_text(tool_with(R"("path": "/x", "query": {"{id}": "1"})")).ok());
}

TEST_CASE("upstreams are checked when the configuration is known", "[transports][upstream]") {
  LoadOptions options;
  options.check_upstreams = true;
  options.upstreams = {"crm"};
  auto result = load_text(tool_with(R"("path": "/x")"), options);
  CHECK(has_rule(result, "unknown-upstream", "unknown upstream 'django' (configured: 'crm')"));
  options.upstreams = {"django"};
  CHECK(load_text(tool_with(R"("path": "/x")"), options).ok());
}

TEST_CASE("resource templates with http handlers use their variables", "[transports][upstream]") {
  auto good = load_text(R"({"resourceTemplates": [{"uriTemplate": "client://{client_id}",
      "name": "client", "handler": {"http": {"upstream": "django",
      "path": "/api/v1/clients/{client_id}/"}}}]})");
  INFO(rules(good));
  CHECK(good.ok());
  auto bad = load_text(R"({"resourceTemplates": [{"uriTemplate": "client://{client_id}",
      "name": "client", "handler": {"http": {"upstream": "django",
      "path": "/api/v1/clients/{id}/"}}}]})");
  CHECK(has_rule(bad, "unknown-placeholder", "id"));
}
