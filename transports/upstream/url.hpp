#pragma once
// URLs of upstream calls: the upstream's base URL, and the request target an http handler
// builds from its templates. Argument values are always percent-encoded, never spliced: a '/',
// '?', '#' or quote in an argument stays inside its path segment or query value.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpd::transports::upstream {

struct BaseUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string prefix;  // path before every handler path, "" or "/api" (no trailing '/')

  // The Host header: host, [v6] in brackets, ":port" unless it is the scheme's default.
  std::string host_header() const;
};

// Parses "http[s]://host[:port][/prefix]". No user info, query or fragment. Returns
// std::nullopt and sets `error` when the URL is not one of those.
std::optional<BaseUrl> parse_base_url(std::string_view url, std::string& error);

// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string percent_encode(std::string_view text);

// Fills a path template: literal text is kept (bytes a path may not hold are encoded),
// each {placeholder} is replaced by its value percent-encoded as part of one segment.
// Errors (returned as a message): a placeholder whose value is empty or absent, and a
// result with a "." or ".." segment, which proxies and servers would normalize away.
struct PathResult {
  std::string path;
  std::string error;  // non-empty: the path was refused
};
PathResult fill_path(std::string_view path_template, const nlohmann::json& values);

// The query string (without '?') from a handler's `query` object: every key and value
// percent-encoded. A value that is exactly one placeholder whose argument is absent or null is
// left out; one whose argument is an array repeats the key for each element (?id=1&id=2).
std::string fill_query(const nlohmann::json& query_template, const nlohmann::json& values);

// The body template with lone-placeholder members of absent/null arguments removed from
// objects (so a PATCH sends only what was given), then filled with typed values.
nlohmann::json fill_body(const nlohmann::json& body_template, const nlohmann::json& values);

// True when `text` has no byte that would break a header line (CR, LF, NUL, other controls
// except tab).
bool valid_header_value(std::string_view text);

}  // namespace mcpd::transports::upstream
