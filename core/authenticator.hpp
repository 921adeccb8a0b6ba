#pragma once
// Turns a bearer credential into an Identity. Implemented over the token store (with a short
// cache) and, later, by the JWT verifier; transports only call authenticate().

#include <optional>
#include <string>
#include <string_view>

#include "core/call.hpp"

namespace mcpd::core {

struct AuthOutcome {
  std::optional<Identity> identity;  // set on success
  // On failure: a short stable label for mcp_auth_failures_total{reason}, e.g. "missing",
  // "malformed", "unknown", "revoked", "expired", "user_inactive", "unavailable".
  std::string reason;
  bool storage_unavailable = false;  // fail closed with 503 rather than 401
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `credential` is the bearer value without the "Bearer " prefix. Thread-safe; may block on
  // storage (call it off I/O threads unless cached).
  virtual AuthOutcome authenticate(std::string_view credential) = 0;
};

}  // namespace mcpd::core
