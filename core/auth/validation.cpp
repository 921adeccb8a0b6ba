#include "core/auth/validation.hpp"

namespace mcpd::core::auth {

const char* reason_label(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::malformed:
      return "malformed";
    case AuthFailure::unknown:
      return "unknown";
    case AuthFailure::revoked:
      return "revoked";
    case AuthFailure::expired:
      return "expired";
    case AuthFailure::user_inactive:
      return "user_inactive";
    case AuthFailure::unavailable:
      return "unavailable";
  }
  return "unknown";
}

const char* describe(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::malformed:
      return "malformed token";
    case AuthFailure::unknown:
      return "invalid token";
    case AuthFailure::revoked:
      return "token revoked";
    case AuthFailure::expired:
      return "token expired";
    case AuthFailure::user_inactive:
      return "user account is disabled";
    case AuthFailure::unavailable:
      return "storage unavailable";
  }
  return "invalid token";
}

Identity Validation::identity() const {
  Identity identity;
  if (record) {
    identity.user = record->user.email;
    identity.token_name = record->token.name;
    identity.allowed_tools = record->token.allowed_tools;
  }
  identity.valid = ok();
  if (failure) identity.invalid_reason = describe(*failure);
  return identity;
}

Validation validate_token(std::string_view presented, const TokenHasher& hasher, Time now,
                          const FindByHash& find, const RecordUsage& record_usage) {
  Validation result;
  if (!parse_token(presented)) {
    result.failure = AuthFailure::malformed;
    return result;
  }
  TokenLookup lookup = find(hasher.hash(presented));
  if (lookup.unavailable) {
    result.failure = AuthFailure::unavailable;
    return result;
  }
  if (!lookup.found) {
    result.failure = AuthFailure::unknown;
    return result;
  }
  result.record = std::move(lookup.found);
  const auto& [token, user] = *result.record;
  if (!token.is_active)
    result.failure = AuthFailure::revoked;
  else if (token.expired(now))
    result.failure = AuthFailure::expired;
  else if (!user.is_active)
    result.failure = AuthFailure::user_inactive;
  else
    record_usage(token, now);
  return result;
}

}  // namespace mcpd::core::auth
