#include "transports/http/policy.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <system_error>

#include "core/auth/rate_limit.hpp"
#include "core/protocol/dispatcher.hpp"

namespace mcpd::transports::http {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool visible_ascii(std::string_view text, std::size_t max_size) {
  return !text.empty() && text.size() <= max_size &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// Calls f(name, value) for every name=value pair of a query string, raw (not decoded).
template <class F>
void for_each_param(std::string_view query, F&& f) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (f(pair.substr(0, eq),
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)))
      return;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

// Splits "scheme://host[:port]" into its parts; nullopt for anything else (paths, userinfo).
struct OriginParts {
  std::string scheme;
  HostPort host;
};

std::optional<OriginParts> parse_origin(std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  OriginParts parts;
  parts.scheme = to_lower(origin.substr(0, sep));
  std::string_view rest = origin.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // tolerate "https://a.b/"
  if (rest.find_first_of("/?#@") != std::string_view::npos) return std::nullopt;
  auto host = parse_host(rest);
  if (!host) return std::nullopt;
  parts.host = std::move(*host);
  return parts;
}

std::optional<std::uint16_t> default_port(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  return std::nullopt;
}

std::string format_host(const HostPort& host) {
  const bool v6 = host.host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + host.host + "]" : host.host;
  if (host.port) out += ":" + std::to_string(*host.port);
  return out;
}

}  // namespace

// --- routing ---

namespace {

struct RouteEntry {
  std::string_view path;
  Route route;
};

// Paths are matched exactly, with an optional trailing '/'.
constexpr std::array<RouteEntry, 10> k_routes{{
    {"/mcp", Route::mcp},
    {"/mcp/sse", Route::legacy_sse},
    {"/sse", Route::legacy_sse},
    {"/mcp/messages", Route::legacy_messages},
    {"/messages", Route::legacy_messages},
    {"/mcp/health", Route::mcp_health},
    {"/live", Route::live},
    {"/ready", Route::ready},
    {"/health", Route::health},
    {"/metrics", Route::metrics},
}};

}  // namespace

RouteMatch match_route(std::string_view method, std::string_view path, bool stateless) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  RouteMatch match;
  for (const auto& entry : k_routes)
    if (entry.path == path) match.route = entry.route;
  switch (match.route) {
    case Route::none:
      return match;
    case Route::mcp:
      if (stateless) {
        match.allow = "POST, OPTIONS";
        match.method_allowed = method == "POST" || method == "OPTIONS";
      } else {
        match.allow = "GET, POST, DELETE, OPTIONS";
        match.method_allowed =
            method == "GET" || method == "POST" || method == "DELETE" || method == "OPTIONS";
      }
      return match;
    case Route::legacy_sse:
      match.allow = "GET, OPTIONS";
      match.method_allowed = method == "GET" || method == "OPTIONS";
      return match;
    case Route::legacy_messages:
      match.allow = "POST, OPTIONS";
      match.method_allowed = method == "POST" || method == "OPTIONS";
      return match;
    default:
      match.allow = "GET, HEAD, OPTIONS";
      match.method_allowed = method == "GET" || method == "HEAD" || method == "OPTIONS";
      return match;
  }
}

bool is_public_route(Route route) {
  switch (route) {
    case Route::mcp_health:
    case Route::live:
    case Route::ready:
    case Route::health:
    case Route::metrics:
      return true;
    default:
      return false;
  }
}

std::string_view route_name(Route route) {
  switch (route) {
    case Route::none:
      return "none";
    case Route::mcp:
      return "mcp";
    case Route::legacy_sse:
      return "sse";
    case Route::legacy_messages:
      return "messages";
    case Route::mcp_health:
      return "mcp_health";
    case Route::live:
      return "live";
    case Route::ready:
      return "ready";
    case Route::health:
      return "health";
    case Route::metrics:
      return "metrics";
  }
  return "none";
}

Target split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  for_each_param(query, [&](std::string_view key, std::string_view value) {
    if (percent_decode(key) != name) return false;
    found = percent_decode(value);
    return true;
  });
  return found;
}

bool query_has_credential(std::string_view query) {
  static constexpr std::array<std::string_view, 7> k_names{
      "access_token", "token", "bearer", "api_key", "apikey", "auth", "authorization"};
  bool found = false;
  for_each_param(query, [&](std::string_view key, std::string_view) {
    const std::string name = to_lower(percent_decode(key));
    found = std::find(k_names.begin(), k_names.end(), name) != k_names.end();
    return found;
  });
  return found;
}

// --- Host and Origin ---

std::optional<HostPort> parse_host(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  HostPort out;
  std::string_view port;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.host = to_lower(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos) {
      if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;  // bare v6
      port = text.substr(colon + 1);
      if (port.empty()) return std::nullopt;
      text = text.substr(0, colon);
    }
    if (text.empty()) return std::nullopt;
    out.host = to_lower(text);
  }
  if (!std::all_of(out.host.begin(), out.host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == ':' || c == '_';
      }))
    return std::nullopt;
  if (!port.empty()) {
    out.port = parse_port(port);
    if (!out.port) return std::nullopt;
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  if (host.size() > 10 && host.substr(host.size() - 10) == ".localhost") return true;
  // 127.0.0.0/8 in dotted-quad form.
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  std::string_view rest = host;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || part.empty() || value > 255)
      return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
    if (rest.empty()) return false;
  }
  return parts == 4;
}

bool host_allowed(const std::optional<std::string_view>& host, const HostPolicy& policy) {
  if (!policy.loopback_listener || !host) return true;
  const auto parsed = parse_host(*host);
  if (!parsed) return false;
  for (const auto& extra : policy.allowed_hosts) {
    const auto allowed = parse_host(extra);
    if (allowed && allowed->host == parsed->host &&
        (!allowed->port || allowed->port == parsed->port))
      return true;
  }
  if (!is_loopback_host(parsed->host)) return false;
  return !parsed->port || *parsed->port == policy.port;
}

std::optional<std::string> normalize_origin(std::string_view origin) {
  auto parts = parse_origin(trim(origin));
  if (!parts) return std::nullopt;
  if (parts->host.port && parts->host.port == default_port(parts->scheme)) parts->host.port.reset();
  return parts->scheme + "://" + format_host(parts->host);
}

OriginDecision check_origin(const std::optional<std::string_view>& origin,
                            const std::optional<std::string_view>& host,
                            const std::vector<std::string>& allowed_origins) {
  if (!origin) return OriginDecision::absent;
  const auto normalized = normalize_origin(*origin);
  for (const auto& allowed : allowed_origins) {
    if (allowed == "*") return OriginDecision::allowed;
    if (normalized && normalize_origin(allowed) == normalized) return OriginDecision::allowed;
  }
  if (!normalized || !host) return OriginDecision::forbidden;  // e.g. "null"

  // Same host: the page was served by the very host:port the request was sent to.
  const auto parts = parse_origin(*origin);
  const auto target = parse_host(*host);
  if (!parts || !target || parts->host.host != target->host) return OriginDecision::forbidden;
  const auto origin_port = parts->host.port ? parts->host.port : default_port(parts->scheme);
  if (target->port && origin_port != target->port) return OriginDecision::forbidden;
  return OriginDecision::same_host;
}

// --- the client's address ---

std::string client_address(std::string_view peer,
                           const std::optional<std::string_view>& forwarded_for) {
  const bool proxied =
      peer == "::1" || peer.substr(0, 4) == "127." || peer.substr(0, 11) == "::ffff:127.";
  if (!proxied || !forwarded_for) return std::string(peer);
  std::string_view last = *forwarded_for;
  if (const auto comma = last.rfind(','); comma != std::string_view::npos)
    last = last.substr(comma + 1);
  last = trim(last);
  const bool address_like =
      !last.empty() && last.size() <= 45 &&
      last.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos;
  return address_like ? std::string(last) : std::string(peer);
}

// --- CORS ---

namespace {
constexpr std::string_view k_allowed_request_headers =
    "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, "
    "X-Correlation-ID, Mcp-Method, Mcp-Name";
constexpr std::string_view k_exposed_headers =
    "Mcp-Session-Id, MCP-Protocol-Version, X-Correlation-ID, WWW-Authenticate, Retry-After";
}  // namespace

std::vector<Header> cors_headers(const std::optional<std::string_view>& origin,
                                 OriginDecision decision) {
  if (!origin || (decision != OriginDecision::allowed && decision != OriginDecision::same_host))
    return {};
  return {{"Access-Control-Allow-Origin", std::string(*origin)},
          {"Access-Control-Expose-Headers", std::string(k_exposed_headers)},
          {"Vary", "Origin"}};
}

std::vector<Header> preflight_headers(std::string_view allow,
                                      const std::optional<std::string_view>& requested) {
  std::string allowed(k_allowed_request_headers);
  std::string_view names = requested.value_or(std::string_view());
  while (!names.empty()) {
    const auto comma = names.find(',');
    const std::string_view name = trim(names.substr(0, comma));
    names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
    const bool param = name.size() > 10 && iequals(name.substr(0, 10), "mcp-param-") &&
                       visible_ascii(name, 128) && name.find(',') == std::string_view::npos;
    if (param) allowed.append(", ").append(name);
  }
  return {{"Access-Control-Allow-Methods", std::string(allow)},
          {"Access-Control-Allow-Headers", std::move(allowed)},
          {"Access-Control-Max-Age", "600"}};
}

// --- correlation ids ---

bool valid_correlation_id(std::string_view id) {
  return visible_ascii(id, 128);
}

// --- content negotiation ---

bool accepts(std::string_view accept, std::string_view media_type) {
  const auto slash = media_type.find('/');
  const std::string_view type = media_type.substr(0, slash);
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);

    std::string_view params;
    if (const auto semi = range.find(';'); semi != std::string_view::npos) {
      params = range.substr(semi + 1);
      range = range.substr(0, semi);
    }
    range = trim(range);
    const bool matches =
        iequals(range, media_type) || iequals(range, "*/*") ||
        (range.size() == type.size() + 2 && iequals(range.substr(0, type.size()), type) &&
         range.substr(type.size()) == "/*");
    if (!matches) continue;
    // q=0 means "not acceptable".
    bool refused = false;
    while (!params.empty()) {
      const auto semi = params.find(';');
      const std::string_view param = trim(params.substr(0, semi));
      params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
      if (param.size() >= 2 && lower(param[0]) == 'q' && param[1] == '=') {
        const std::string_view q = param.substr(2);
        refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
      }
    }
    if (!refused) return true;
  }
  return false;
}

bool is_json_content_type(std::string_view content_type) {
  const std::string_view essence = trim(content_type.substr(0, content_type.find(';')));
  return iequals(essence, "application/json");
}

// --- protocol versions ---

bool supported_protocol_version(std::string_view version) {
  const auto& versions = core::legacy_protocol_versions();
  return std::find(versions.begin(), versions.end(), version) != versions.end();
}

// --- credentials ---

Bearer parse_bearer(const std::optional<std::string_view>& authorization) {
  Bearer bearer;
  if (!authorization) return bearer;
  std::string_view value = trim(*authorization);
  if (value.empty()) return bearer;
  bearer.status = Bearer::Status::malformed;
  if (value.size() < 7 || !iequals(value.substr(0, 6), "bearer") || value[6] != ' ') return bearer;
  value = trim(value.substr(7));
  // token68 (RFC 7235): ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
  const auto body_end = value.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
  if (value.empty() || body_end == 0) return bearer;
  if (body_end != std::string_view::npos &&
      value.find_first_not_of('=', body_end) != std::string_view::npos)
    return bearer;
  bearer.status = Bearer::Status::present;
  bearer.token = value;
  return bearer;
}

// --- sessions ---

std::string new_session_id() {
  std::array<unsigned char, 32> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    id += k_hex[b >> 4];
    id += k_hex[b & 0x0f];
  }
  return id;
}

bool plausible_session_id(std::string_view id) {
  return visible_ascii(id, 128);
}

// --- JSON-RPC bodies ---

namespace {

BodyKind classify_into(const json& body, RequestIds* ids) {
  BodyKind kind;
  kind.batch = body.is_array();
  auto visit = [&kind, ids](const json& message) {
    if (!message.is_object()) {
      ++kind.invalid;
      return;
    }
    const auto method = message.find("method");
    if (method == message.end()) {
      if (message.contains("id") && (message.contains("result") || message.contains("error")))
        ++kind.responses;
      else
        ++kind.invalid;
      return;
    }
    const auto id = message.find("id");
    if (id == message.end()) {
      ++kind.notifications;
      return;
    }
    ++kind.requests;
    if (ids) ids->push_back(*id);
    if (method->is_string()) {
      const auto& name = method->get_ref<const std::string&>();
      if (name == "initialize") kind.initialize = true;
      kind.work += core::request_cost(name);
    }
  };
  if (kind.batch) {
    for (const auto& message : body) visit(message);
  } else {
    visit(body);
  }
  return kind;
}

}  // namespace

BodyKind classify(const json& body) {
  return classify_into(body, nullptr);
}

RequestIds request_ids(const json& body) {
  RequestIds ids;
  classify_into(body, &ids);
  return ids;
}

}  // namespace mcpd::transports::http
