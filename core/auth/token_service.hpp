#pragma once
// Issuing a token: the admin operation behind `mcpd token create`. Generates the plaintext,
// stores only its hash, and hands the plaintext back exactly once.

#include <optional>
#include <string>
#include <vector>

#include "core/auth/token.hpp"
#include "core/auth/token_store.hpp"

namespace mcpd::core::auth {

struct TokenRequest {
  std::string user_email;
  std::string name;
  std::vector<std::string> allowed_tools;  // empty = all tools
  std::optional<int> expires_days;         // >= 1; nullopt = never expires
};

struct IssuedToken {
  Token token;
  std::string plaintext;  // show once, never store
};

// not_found: no such user; invalid: user disabled, bad name/tools/expiry.
Result<IssuedToken> issue_token(TokenStore& store, const TokenHasher& hasher,
                                const TokenRequest& request, Time now);

// "a, b,,c " -> {"a", "b", "c"} (the seed's --tools parsing).
std::vector<std::string> split_tools(const std::string& list);

}  // namespace mcpd::core::auth
