#include "core/auth/records.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/auth/token.hpp"

namespace mcpd::core::auth {

Time now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string to_iso8601(Time t) {
  const std::time_t seconds = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool Token::can_use_tool(std::string_view tool) const {
  return auth::can_use_tool(allowed_tools, tool);
}

std::string Token::masked() const {
  return masked_token(last8);
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F || c == ' ';
  });
}

}  // namespace

std::string normalize_email(std::string_view email) {
  std::string out{trim(email)};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::string> check_email(std::string_view email) {
  email = trim(email);
  if (email.empty()) return "e-mail address is empty";
  if (email.size() > 254) return "e-mail address is longer than 254 characters";
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos || has_control_or_space(email))
    return "'" + std::string{email} + "' is not an e-mail address";
  return std::nullopt;
}

std::optional<std::string> check_token_name(std::string_view name) {
  if (trim(name).empty()) return "token name is empty";
  if (name.size() > 100) return "token name is longer than 100 characters";
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
    return "token name contains control characters";
  return std::nullopt;
}

std::optional<std::string> check_tool_name(std::string_view tool) {
  // MCP's own rule: 1-128 of [A-Za-z0-9_.-].
  const bool ok =
      !tool.empty() && tool.size() <= 128 && std::all_of(tool.begin(), tool.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      });
  if (ok) return std::nullopt;
  return "'" + std::string{tool} + "' is not a tool name (1-128 of A-Z a-z 0-9 _ - .)";
}

}  // namespace mcpd::core::auth
