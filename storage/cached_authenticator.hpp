#pragma once
// Bearer tokens checked against the TokenStore through the validation chain, with a short
// in-memory cache so a busy client costs one lookup per TTL instead of one per request.
//
// The cache is keyed by the token's hash (never the plaintext) and holds refusals as well as
// successes, each for `ttl` (2 s): a revoked, expired or disabled token is refused everywhere
// within the TTL, well inside the 5 s PRODUCT §7 promises. A success is never cached past the
// token's expiry. Malformed tokens are refused before any lookup and storage failures are
// not cached (they fail closed now and recover on the next request). Thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "core/auth/token.hpp"
#include "core/auth/authenticator.hpp"
#include "storage/auth_cache.hpp"
#include "storage/token_store.hpp"

namespace mcpd::storage {

struct AuthCacheOptions {
  std::chrono::milliseconds ttl{2000};
  std::size_t max_entries = 10000;
};

class CachedAuthenticator final : public core::Authenticator {
 public:
  // Wall clock: expiry is compared with it, and the cache uses it for its TTL (an entry whose
  // time lies in the future after the clock stepped back counts as stale).
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  CachedAuthenticator(std::shared_ptr<TokenStore> store, core::auth::TokenHasher hasher,
                      AuthCacheOptions options = {}, Clock clock = &std::chrono::system_clock::now);

  // Reasons: "missing" (empty credential), "malformed", "unknown", "revoked", "expired",
  // "user_inactive", "unavailable" (with storage_unavailable = true).
  core::AuthOutcome authenticate(std::string_view credential) override;
  // Early refusals ("missing", "malformed") and fresh cached answers; nullopt on a miss.
  std::optional<core::AuthOutcome> try_cached(std::string_view credential) override;

  // Forgets every cached answer (e.g. after an administrative change in this process).
  void clear();
  std::size_t size() const;

 private:
  std::shared_ptr<TokenStore> m_store;
  core::auth::TokenHasher m_hasher;
  AuthCacheOptions m_options;
  Clock m_clock;
  AuthCache m_cache;  // token hash -> answer
};

}  // namespace mcpd::storage
