#pragma once
// Input checks and error wording shared by the backends (internal to storage), so both refuse
// the same things with the same messages.

#include <optional>
#include <string>

#include "storage/token_store.hpp"

namespace mcpd::storage::checks {

std::optional<StoreError> new_user(const std::string& email, const std::string& name);
// Also refuses anything that is not a 64-hex-digit hash, so a plaintext token can never be
// stored by mistake.
std::optional<StoreError> new_token(const NewToken& token);

// 1..k_max_jti_length characters without control characters; a reason of printable text.
std::optional<StoreError> revoked_jti(const std::string& jti, const std::string& reason);

Result<User> explain_user_conflict(Result<User> result, const std::string& email);
Result<Token> explain_token_conflict(Result<Token> result, std::int64_t user_id);

}  // namespace mcpd::storage::checks
