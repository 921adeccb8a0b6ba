#include "storage/store_checks.hpp"

#include <algorithm>

namespace mcpd::storage::checks {

std::optional<StoreError> new_user(const std::string& email, const std::string& name) {
  if (auto problem = core::auth::check_email(email)) return fail(Failure::invalid, *problem);
  if (name.size() > 200) return fail(Failure::invalid, "user name is longer than 200 characters");
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
    return fail(Failure::invalid, "user name contains control characters");
  return std::nullopt;
}

std::optional<StoreError> revoked_jti(const std::string& jti, const std::string& reason) {
  auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; };
  if (jti.empty() || jti.size() > k_max_jti_length)
    return fail(Failure::invalid,
                "jti must be 1-" + std::to_string(k_max_jti_length) + " characters");
  if (std::any_of(jti.begin(), jti.end(), control))
    return fail(Failure::invalid, "jti contains control characters");
  if (reason.size() > k_max_revocation_reason_length)
    return fail(
        Failure::invalid,
        "reason is longer than " + std::to_string(k_max_revocation_reason_length) + " characters");
  if (std::any_of(reason.begin(), reason.end(), control))
    return fail(Failure::invalid, "reason contains control characters");
  return std::nullopt;
}

std::optional<StoreError> new_token(const NewToken& token) {
  if (auto problem = core::auth::check_token_name(token.name))
    return fail(Failure::invalid, *problem);
  for (const auto& tool : token.allowed_tools) {
    if (auto problem = core::auth::check_tool_name(tool)) return fail(Failure::invalid, *problem);
  }
  const bool hex_hash =
      token.hash.size() == 64 && std::all_of(token.hash.begin(), token.hash.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
  if (!hex_hash) return fail(Failure::invalid, "token hash must be 64 lower-case hex digits");
  if (token.last8.size() != 8) return fail(Failure::invalid, "last8 must be 8 characters");
  return std::nullopt;
}

Result<User> explain_user_conflict(Result<User> result, const std::string& email) {
  if (!result && result.error().failure == Failure::conflict)
    return fail(Failure::conflict, "user '" + email + "' already exists");
  return result;
}

Result<Token> explain_token_conflict(Result<Token> result, std::int64_t user_id) {
  if (!result && result.error().failure == Failure::not_found)
    return fail(Failure::not_found, "user id " + std::to_string(user_id) + " not found");
  if (!result && result.error().failure == Failure::conflict)
    return fail(Failure::conflict, "a token with the same hash already exists");
  return result;
}

}  // namespace mcpd::storage::checks
