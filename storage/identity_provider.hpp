#pragma once
// The validation chain (core/auth/validation.hpp) bound to a TokenStore: for stdio's
// MCPD_TOKEN and for HTTP bearer tokens. Storage failures fail closed (AuthFailure::unavailable).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth/token.hpp"
#include "core/auth/validation.hpp"
#include "core/auth/authenticator.hpp"
#include "core/protocol/call.hpp"
#include "storage/token_store.hpp"

namespace mcpd::storage {

// exists -> active -> not expired -> user active -> record usage (coalesced).
core::auth::Validation validate_token(TokenStore& store, const core::auth::TokenHasher& hasher,
                                      std::string_view presented, Time now);

// The stdio session's identity from MCPD_TOKEN. Resolve once at start (an invalid token there
// is a startup error) and again every few seconds, so revocation, expiry and a disabled user
// take effect during a long session. Thread-safe.
class IdentityProvider {
 public:
  IdentityProvider(std::shared_ptr<TokenStore> store, std::string token,
                   core::auth::TokenHasher hasher);
  // Any bearer credential through an Authenticator (e.g. a JWT via make_authenticator()); pass
  // one without a cache, since resolve() runs only every few seconds anyway. The authenticator
  // keeps its own clock: resolve(now) ignores `now` then, and last_failure() is the chain's own
  // failure for opaque-token labels, `unavailable` for storage trouble, else `unknown`.
  IdentityProvider(std::shared_ptr<core::Authenticator> authenticator, std::string token);

  // valid = false with invalid_reason ("token revoked", "storage unavailable", ...) when the
  // chain fails; never throws.
  core::Identity resolve();
  core::Identity resolve(Time now);
  // The failure of the last resolve(), if any (for logs and the startup error).
  std::optional<core::auth::AuthFailure> last_failure() const;

 private:
  core::Identity resolve_with_authenticator();

  std::shared_ptr<TokenStore> m_store;
  std::shared_ptr<core::Authenticator> m_authenticator;
  std::string m_token;
  core::auth::TokenHasher m_hasher;
  mutable std::mutex m_mutex;
  std::optional<core::auth::AuthFailure> m_last_failure;
};

}  // namespace mcpd::storage
