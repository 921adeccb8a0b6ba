#pragma once
// Turns a bearer credential into an Identity. Implemented over the token store (with a short
// cache) and the JWT verifier (storage/bearer_authenticator.hpp); transports only call
// authenticate().

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/protocol/call.hpp"

namespace mcpd::core {

struct AuthOutcome {
  std::optional<Identity> identity;  // set on success
  // On failure: a short stable label for mcp_auth_failures_total{reason}, e.g. "missing",
  // "malformed", "unknown", "revoked", "expired", "user_inactive", "unavailable".
  std::string reason;
  bool storage_unavailable = false;  // fail closed with 503 rather than 401
};

// RFC 9728 protected resource metadata, offered by authenticators that accept tokens from an
// authorization server (JWT). The HTTP transport serves it at
// /.well-known/oauth-protected-resource and points its 401 challenges there.
struct ProtectedResource {
  std::string resource;  // this server's URL as tokens name it; empty = derived from the request
  std::vector<std::string> authorization_servers;  // the JWT issuer, when configured
  std::string resource_name;                       // optional display name
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `credential` is the bearer value without the "Bearer " prefix. Thread-safe; may block on
  // storage (call it off I/O threads unless cached).
  virtual AuthOutcome authenticate(std::string_view credential) = 0;
  // The answer authenticate() would give, when it is known without blocking: a cached answer
  // still fresh, or a refusal that needs no storage (missing, malformed). nullopt means "ask
  // authenticate()" (off the I/O thread). Thread-safe and cheap enough for an I/O thread.
  virtual std::optional<AuthOutcome> try_cached(std::string_view /*credential*/) {
    return std::nullopt;
  }
  // nullopt: no authorization server to advertise (opaque tokens only).
  virtual std::optional<ProtectedResource> protected_resource() const { return std::nullopt; }
};

}  // namespace mcpd::core
