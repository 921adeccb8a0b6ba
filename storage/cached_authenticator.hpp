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
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/auth/token.hpp"
#include "core/authenticator.hpp"
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

  // Forgets every cached answer (e.g. after an administrative change in this process).
  void clear();
  std::size_t size() const;

 private:
  using TimePoint = std::chrono::system_clock::time_point;
  struct Entry {
    core::AuthOutcome outcome;
    TimePoint stored_at;
    TimePoint fresh_until;
    std::list<std::string>::iterator order;  // position in m_order
  };

  void remember(const std::string& key, const core::AuthOutcome& outcome, TimePoint now,
                TimePoint fresh_until);
  void drop_oldest();

  std::shared_ptr<TokenStore> m_store;
  core::auth::TokenHasher m_hasher;
  AuthCacheOptions m_options;
  Clock m_clock;

  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;  // token hash -> answer
  std::list<std::string> m_order;                    // hashes, oldest stored first
};

}  // namespace mcpd::storage
