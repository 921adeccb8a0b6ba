#pragma once
// The seed's validation chain, in its order: well-formed -> exists -> active -> not expired ->
// user active -> record usage. Storage is reached through two callables so the chain stays
// pure logic; storage/identity_provider.hpp binds them to a TokenStore.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth/records.hpp"
#include "core/auth/token.hpp"
#include "core/protocol/call.hpp"

namespace mcpd::core::auth {

enum class AuthFailure {
  malformed,      // not an mcpd token (prefix, length, alphabet or checksum); never looked up
  unknown,        // no token with that hash
  revoked,        // is_active = false
  expired,        // expires_at <= now
  user_inactive,  // the token's user is disabled
  unavailable,    // storage could not answer: fail closed
};

// Stable snake_case label, e.g. for mcp_auth_failures_total{reason}.
const char* reason_label(AuthFailure failure);
// Human wording for refusals, e.g. "token revoked".
const char* describe(AuthFailure failure);

struct TokenLookup {
  std::optional<TokenWithUser> found;  // nullopt and !unavailable: no such token
  bool unavailable = false;
};

using FindByHash = std::function<TokenLookup(const std::string& hash)>;
// Called only for tokens that passed every check. Failures to record are not auth failures.
using RecordUsage = std::function<void(const Token& token, Time now)>;

struct Validation {
  std::optional<AuthFailure> failure;   // nullopt = valid
  std::optional<TokenWithUser> record;  // set once the token was found

  bool ok() const { return !failure; }
  // The caller as the dispatcher sees it; valid = false with invalid_reason on failure.
  Identity identity() const;
};

Validation validate_token(std::string_view presented, const TokenHasher& hasher, Time now,
                          const FindByHash& find, const RecordUsage& record_usage);

}  // namespace mcpd::core::auth
