#pragma once
// Users and tokens as the storage backends return them (the seed's User and MCPToken).
// Times have second precision and are UTC.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::core::auth {

using Time = std::chrono::sys_seconds;

Time now_seconds();
// "2025-11-21T19:51:00Z"
std::string to_iso8601(Time t);

struct User {
  std::int64_t id = 0;
  std::string email;  // stored lower-case: lookups ignore case
  std::string name;
  bool is_active = true;
  Time created_at{};
  Time updated_at{};
};

struct Token {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string user_email;
  std::string name;
  std::string last8;  // last 8 characters of the plaintext, for the masked display
  bool is_active = true;
  std::vector<std::string> allowed_tools;  // empty = all tools
  std::optional<Time> expires_at;
  std::optional<Time> last_used_at;
  Time created_at{};
  Time updated_at{};

  bool expired(Time now) const { return expires_at && *expires_at <= now; }
  bool can_use_tool(std::string_view tool) const;
  std::string masked() const;
};

// What a hash lookup returns: the token and its user in one query (select_related).
struct TokenWithUser {
  Token token;
  User user;
};

// Input checks shared by the CLI and the store (the backends refuse with `invalid` too).
// Each returns an error message, or nullopt when the value is acceptable.
std::optional<std::string> check_email(std::string_view email);
std::optional<std::string> check_token_name(std::string_view name);
std::optional<std::string> check_tool_name(std::string_view tool);
// Trims and lower-cases an e-mail address (mcpd treats addresses case-insensitively).
std::string normalize_email(std::string_view email);

}  // namespace mcpd::core::auth
