#include "core/auth/auth_result.hpp"

#include <array>

namespace mcpd::core::auth {

namespace {

struct RefusalInfo {
  Refusal refusal;
  std::string_view label;
  std::string_view description;
  unsigned http_status;
};

// In the enum's order (checked below), so a lookup is an index.
constexpr std::array k_refusals = {
    RefusalInfo{Refusal::missing, "missing", "no token", 401},
    RefusalInfo{Refusal::malformed, "malformed", "malformed token", 401},
    RefusalInfo{Refusal::unknown, "unknown", "invalid token", 401},
    RefusalInfo{Refusal::revoked, "revoked", "token revoked", 401},
    RefusalInfo{Refusal::expired, "expired", "token expired", 401},
    RefusalInfo{Refusal::user_inactive, "user_inactive", "user account is disabled", 401},
    RefusalInfo{Refusal::unavailable, "unavailable", "storage unavailable", 503},
    RefusalInfo{Refusal::query_token, "query_token", "credentials in the URL are not accepted",
                400},
    RefusalInfo{Refusal::jwt_malformed, "jwt_malformed", "malformed JWT", 401},
    RefusalInfo{Refusal::jwt_alg, "jwt_alg", "JWT algorithm not accepted", 401},
    RefusalInfo{Refusal::jwt_header, "jwt_header", "JWT header not accepted", 401},
    RefusalInfo{Refusal::jwt_signature, "jwt_signature", "JWT signature invalid", 401},
    RefusalInfo{Refusal::jwt_expired, "jwt_expired", "JWT expired", 401},
    RefusalInfo{Refusal::jwt_not_yet_valid, "jwt_not_yet_valid", "JWT not yet valid", 401},
    RefusalInfo{Refusal::jwt_issuer, "jwt_issuer", "JWT issuer not accepted", 401},
    RefusalInfo{Refusal::jwt_audience, "jwt_audience", "JWT audience not accepted", 401},
    RefusalInfo{Refusal::jwt_claims, "jwt_claims", "JWT claims invalid", 401},
    RefusalInfo{Refusal::jwt_revoked, "jwt_revoked", "JWT revoked", 401},
    RefusalInfo{Refusal::jwt_disabled, "jwt_disabled", "JWT authentication is not configured", 401},
};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < k_refusals.size(); ++i)
    if (static_cast<std::size_t>(k_refusals[i].refusal) != i) return false;
  return true;
}
static_assert(in_enum_order() &&
              k_refusals.size() == static_cast<std::size_t>(Refusal::jwt_disabled) + 1);

const RefusalInfo& info(Refusal refusal) {
  return k_refusals[static_cast<std::size_t>(refusal)];
}

}  // namespace

std::string_view reason_label(Refusal refusal) {
  return info(refusal).label;
}

std::string_view describe(Refusal refusal) {
  return info(refusal).description;
}

unsigned http_status(Refusal refusal) {
  return info(refusal).http_status;
}

Identity AuthResult::session_identity() const {
  if (ok()) return identity();
  Identity refused;
  refused.valid = false;
  refused.invalid_reason = std::string(describe(refusal()));
  return refused;
}

}  // namespace mcpd::core::auth
