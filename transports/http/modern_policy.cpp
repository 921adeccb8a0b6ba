#include "transports/http/modern_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "core/protocol/protocol_version.hpp"
#include "core/protocol/request_meta.hpp"
#include "core/protocol/rpc.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::transports::http {

namespace {

constexpr std::string_view k_version_key = "io.modelcontextprotocol/protocolVersion";
constexpr std::string_view k_capabilities_key = "io.modelcontextprotocol/clientCapabilities";
constexpr std::string_view k_client_info_key = "io.modelcontextprotocol/clientInfo";
constexpr std::string_view k_log_level_key = "io.modelcontextprotocol/logLevel";

constexpr int k_header_mismatch = -32020;
constexpr int k_missing_client_capability = -32021;
constexpr int k_unsupported_version = -32022;

constexpr std::array<std::string_view, 8> k_log_levels{"debug", "info",     "notice", "warning",
                                                       "error", "critical", "alert",  "emergency"};

// RFC 9110 optional whitespace around a field value.
std::string_view strip_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::string_view> header(const HeaderLookup& headers, std::string_view name) {
  const auto value = headers(name);
  if (!value) return std::nullopt;
  return strip_ows(*value);
}

// params._meta when it is an object.
const json* meta_of(const json& message) {
  if (!message.is_object()) return nullptr;
  const auto params = message.find("params");
  if (params == message.end() || !params->is_object()) return nullptr;
  const auto meta = params->find("_meta");
  return meta != params->end() && meta->is_object() ? &*meta : nullptr;
}

bool has_claim(const json& message) {
  const json* meta = meta_of(message);
  return meta && meta->contains(k_version_key);
}

std::string clip(std::string_view text) {
  return std::string(text.substr(0, 64));
}

Refusal header_mismatch(std::string message, std::string_view header_value, std::string_view body) {
  return Refusal{400, k_header_mismatch, "Header mismatch: " + std::move(message),
                 json{{"mismatch", {{"header", clip(header_value)}, {"body", clip(body)}}}}};
}

Refusal invalid_envelope(const std::string& problem) {
  return Refusal{400, core::rpc_code::k_invalid_params,
                 "Invalid params: invalid _meta for protocol 2026-07-28: " + problem, nullptr};
}

// The MCP-Protocol-Version and Mcp-Method headers, when given, agree with the body.
std::optional<Refusal> cross_check(const json& message, const std::optional<std::string>& claimed,
                                   const HeaderLookup& headers) {
  const auto version = header(headers, "MCP-Protocol-Version");
  if (version && claimed && *version != *claimed)
    return header_mismatch("MCP-Protocol-Version " + clip(*version) +
                               " does not match the request's protocol version " + clip(*claimed),
                           *version, *claimed);
  const auto method = header(headers, "Mcp-Method");
  const std::string& body_method = message["method"].get_ref<const std::string&>();
  if (method && *method != body_method)
    return header_mismatch(
        "Mcp-Method " + clip(*method) + " does not match the method " + clip(body_method), *method,
        body_method);
  return std::nullopt;
}

bool valid_modern_claim(const json& message) {
  const auto claimed = claimed_version(message);
  return claimed && modern_era_version(*claimed) && !envelope_problem(*meta_of(message));
}

EraDecision decide_request(const json& message, const HeaderLookup& headers) {
  const auto version_header = header(headers, "MCP-Protocol-Version");
  const bool header_modern = version_header && modern_era_version(*version_header);
  const std::string& method = message["method"].get_ref<const std::string&>();
  if (method == "initialize" && !valid_modern_claim(message)) {
    if (header_modern)
      return {Era::legacy, header_mismatch("initialize (the 2025 handshake) was sent with "
                                           "MCP-Protocol-Version " +
                                               clip(*version_header),
                                           *version_header, "initialize")};
    return {Era::legacy, std::nullopt};
  }
  if (has_claim(message)) {
    if (auto problem = envelope_problem(*meta_of(message)))
      return {Era::modern, invalid_envelope(*problem)};
    if (auto refusal = cross_check(message, claimed_version(message), headers))
      return {Era::modern, std::move(refusal)};
    return {Era::modern, std::nullopt};
  }
  if (header_modern)
    return {Era::modern,
            invalid_envelope("MCP-Protocol-Version names " + clip(*version_header) +
                             " but params._meta has no " + std::string(k_version_key))};
  return {Era::legacy, std::nullopt};
}

EraDecision decide_notification(const json& message, const HeaderLookup& headers) {
  const auto version_header = header(headers, "MCP-Protocol-Version");
  if (has_claim(message)) {
    const auto claimed = claimed_version(message);
    if (claimed->empty())
      return {Era::modern, invalid_envelope(std::string(k_version_key) + " must be a string")};
    if (version_header && *version_header != *claimed)
      return {Era::modern,
              header_mismatch("MCP-Protocol-Version " + clip(*version_header) +
                                  " does not match the notification's protocol version " +
                                  clip(*claimed),
                              *version_header, *claimed)};
    const bool modern = modern_era_version(*claimed);
    if (modern)
      if (auto refusal = cross_check(message, std::nullopt, headers))
        return {Era::modern, std::move(refusal)};
    return {modern ? Era::modern : Era::legacy, std::nullopt};
  }
  if (version_header && modern_era_version(*version_header)) {
    if (auto refusal = cross_check(message, std::nullopt, headers))
      return {Era::modern, std::move(refusal)};
    return {Era::modern, std::nullopt};
  }
  return {Era::legacy, std::nullopt};
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Canonical padded Base64 (RFC 4648 §4), as the sentinel requires.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const int value = base64_value(text[i]);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if (++count == 4) {
      out += static_cast<char>((bits >> 16) & 0xff);
      out += static_cast<char>((bits >> 8) & 0xff);
      out += static_cast<char>(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  if (count == 1) return std::nullopt;
  if (count == 2) out += static_cast<char>((bits >> 4) & 0xff);
  if (count == 3) {
    out += static_cast<char>((bits >> 10) & 0xff);
    out += static_cast<char>((bits >> 2) & 0xff);
  }
  return out;
}

// RFC 9110 §5.6.2 token: 1*tchar.
bool is_token(std::string_view text) {
  static constexpr std::string_view k_tchar_symbols = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           k_tchar_symbols.find(c) != std::string_view::npos;
  });
}

void collect_param_headers(const json& schema, std::vector<std::string>& path,
                           std::vector<ParamHeader>& out, std::set<std::string>& seen) {
  static constexpr std::size_t k_max_depth = 32;
  if (!schema.is_object() || path.size() > k_max_depth) return;
  const auto annotation = schema.find("x-mcp-header");
  if (!path.empty() && annotation != schema.end() && annotation->is_string()) {
    const std::string& name = annotation->get_ref<const std::string&>();
    const std::string type = schema.value("type", std::string());
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool primitive =
        type == "string" || type == "integer" || type == "boolean" || type == "number";
    if (is_token(name) && primitive && seen.insert(lower).second)
      out.push_back(ParamHeader{name, path, type});
  }
  const auto properties = schema.find("properties");
  if (properties == schema.end() || !properties->is_object()) return;
  for (const auto& [key, child] : properties->items()) {
    path.push_back(key);
    collect_param_headers(child, path, out, seen);
    path.pop_back();
  }
}

const json* value_at(const json& root, const std::vector<std::string>& path) {
  const json* node = &root;
  for (const auto& key : path) {
    if (!node->is_object()) return nullptr;
    const auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

// A decimal number as the spec's integer headers carry it: -?digits(.digits)?
std::optional<double> canonical_decimal(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  const auto dot = digits.find('.');
  const std::string_view whole = digits.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view("0") : digits.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole) || !all_digits(fraction)) return std::nullopt;
  return std::strtod(std::string(text).c_str(), nullptr);
}

// The argument as its header string; nullopt for values no header can carry.
std::optional<std::string> header_form(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return value.dump();
  if (value.is_number_float() && std::isfinite(value.get<double>())) return value.dump();
  return std::nullopt;
}

}  // namespace

bool modern_era_version(std::string_view version) {
  return core::is_modern_version(version);
}

std::optional<std::string> claimed_version(const json& message) {
  return core::modern_version_of(message);
}

EraDecision decide_era(const json& body, const HeaderLookup& headers) {
  if (body.is_array()) {
    // Served without a session like its elements; the dispatcher refuses the batch (-32600).
    const bool claimed = std::any_of(body.begin(), body.end(), has_claim);
    return {claimed ? Era::modern : Era::legacy, std::nullopt};
  }
  if (!body.is_object()) return {Era::legacy, std::nullopt};
  const auto method = body.find("method");
  if (method == body.end() || !method->is_string()) return {Era::legacy, std::nullopt};
  if (body.contains("id")) return decide_request(body, headers);
  return decide_notification(body, headers);
}

std::optional<std::string> envelope_problem(const json& meta) {
  const auto version = meta.find(k_version_key);
  const auto capabilities = meta.find(k_capabilities_key);
  if (version == meta.end()) return std::string(k_version_key) + ": missing";
  if (capabilities == meta.end()) return std::string(k_capabilities_key) + ": missing";
  if (!version->is_string()) return std::string(k_version_key) + ": must be a string";
  if (!capabilities->is_object()) return std::string(k_capabilities_key) + ": must be an object";
  if (const auto info = meta.find(k_client_info_key); info != meta.end()) {
    const bool valid = info->is_object() && info->contains("name") && (*info)["name"].is_string() &&
                       info->contains("version") && (*info)["version"].is_string();
    if (!valid)
      return std::string(k_client_info_key) + ": must be an object with string name and version";
  }
  if (const auto level = meta.find(k_log_level_key); level != meta.end()) {
    const bool valid =
        level->is_string() && std::find(k_log_levels.begin(), k_log_levels.end(),
                                        level->get_ref<const std::string&>()) != k_log_levels.end();
    if (!valid) return std::string(k_log_level_key) + ": must be a logging level";
  }
  return std::nullopt;
}

std::optional<Refusal> check_version(const std::string& claimed,
                                     const std::vector<std::string>& supported) {
  if (std::find(supported.begin(), supported.end(), claimed) != supported.end())
    return std::nullopt;
  return Refusal{400, k_unsupported_version, "Unsupported protocol version: " + clip(claimed),
                 json{{"supported", supported}, {"requested", claimed}}};
}

std::optional<Refusal> check_standard_headers(const json& message, const HeaderLookup& headers) {
  if (!message.is_object() || !message.contains("id")) return std::nullopt;
  const auto method_field = message.find("method");  // not a request without a string method
  if (method_field == message.end() || !method_field->is_string()) return std::nullopt;
  const std::string& method = method_field->get_ref<const std::string&>();
  if (!header(headers, "MCP-Protocol-Version"))
    return header_mismatch("the required MCP-Protocol-Version header is absent", "(missing)",
                           method);
  if (!header(headers, "Mcp-Method"))
    return header_mismatch("the required Mcp-Method header is absent", "(missing)", method);

  const char* field = method == "resources/read"                            ? "uri"
                      : (method == "tools/call" || method == "prompts/get") ? "name"
                                                                            : nullptr;
  if (!field) return std::nullopt;
  // A reference, not a copy of params (arguments and all) as `cond ? member : json()` makes.
  static const json k_none;
  const auto params_field = message.find("params");
  const json& params = params_field != message.end() ? *params_field : k_none;
  const json* body = params.is_object() && params.contains(field) ? &params[field] : nullptr;
  const std::optional<std::string> value =
      body && body->is_string() ? std::optional(body->get<std::string>()) : std::nullopt;
  const auto name = header(headers, "Mcp-Name");
  if (!name) {
    if (!value) return std::nullopt;
    return header_mismatch("the required Mcp-Name header is absent", "(missing)", *value);
  }
  const auto decoded = decode_header_value(*name);
  if (!decoded)
    return header_mismatch("the Mcp-Name header is not a valid header value", *name, "");
  if (value && *decoded != *value)
    return header_mismatch(
        "Mcp-Name " + clip(*decoded) + " does not match params." + field + " " + clip(*value),
        *name, *value);
  return std::nullopt;
}

std::vector<ParamHeader> param_headers(const json& input_schema) {
  std::vector<ParamHeader> out;
  std::vector<std::string> path;
  std::set<std::string> seen;
  collect_param_headers(input_schema, path, out, seen);
  return out;
}

std::optional<Refusal> check_param_headers(const std::vector<ParamHeader>& declarations,
                                           const json& arguments, const HeaderLookup& headers) {
  for (const auto& declaration : declarations) {
    const json* value = value_at(arguments, declaration.path);
    if (!value || value->is_null()) continue;
    const auto expected = header_form(*value);
    if (!expected) continue;
    const std::string name = "Mcp-Param-" + declaration.name;
    const auto given = header(headers, name);
    if (!given) return header_mismatch("the " + name + " header is absent", "(missing)", *expected);
    const auto decoded = decode_header_value(*given);
    if (!decoded)
      return header_mismatch("the " + name + " header is not a valid header value", *given, "");
    const bool numeric = declaration.type == "integer" || declaration.type == "number";
    const auto number = numeric && value->is_number() ? canonical_decimal(*decoded) : std::nullopt;
    const bool equal = number ? *number == value->get<double>() : *decoded == *expected;
    if (!equal)
      return header_mismatch(
          name + " " + clip(*decoded) + " does not match the argument " + clip(*expected), *given,
          *expected);
  }
  return std::nullopt;
}

std::optional<std::string> decode_header_value(std::string_view value) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte == '\t' || (byte >= 0x20 && byte <= 0x7e);
  });
  if (!printable) return std::nullopt;
  constexpr std::string_view prefix = "=?base64?";
  constexpr std::string_view suffix = "?=";
  if (value.size() < prefix.size() + suffix.size() || value.substr(0, prefix.size()) != prefix ||
      value.substr(value.size() - suffix.size()) != suffix)
    return std::string(value);
  auto decoded =
      base64_decode(value.substr(prefix.size(), value.size() - prefix.size() - suffix.size()));
  if (!decoded || !core::valid_utf8(*decoded)) return std::nullopt;
  return decoded;
}

unsigned modern_reply_status(const json& reply) {
  if (!reply.is_object()) return 200;
  const auto error = reply.find("error");
  if (error == reply.end() || !error->is_object()) return 200;
  // The dispatcher's replies always carry an integer code; anything else is answered 200.
  const auto code = error->find("code");
  if (code == error->end() || !code->is_number_integer()) return 200;
  switch (code->get<std::int64_t>()) {
    case core::rpc_code::k_method_not_found:
      return 404;
    case k_header_mismatch:
    case k_missing_client_capability:
    case k_unsupported_version:
    case core::rpc_code::k_invalid_request:
    case core::rpc_code::k_parse_error:
      return 400;
    default:
      return 200;
  }
}

}  // namespace mcpd::transports::http
