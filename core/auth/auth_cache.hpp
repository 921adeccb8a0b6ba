#pragma once
// A short-lived, bounded memory of authentication answers, keyed by a hash of the credential
// (never the credential itself). Each answer is fresh from the moment it was stored until its
// own deadline; a clock that steps back makes every entry stale. Oldest entries go first when
// the cache is full. Thread-safe. The Authenticator keeps one, for opaque tokens and JWTs alike.
//
// Lookups run on the HTTP I/O threads for every authenticated request, so a repeated lookup
// takes no lock at all: each thread keeps its own copies of the answers it has read (a small
// thread-local front), valid while the cache's epoch is unchanged. The epoch is one atomic that
// is written only when an answer is withdrawn (clear, forget, replace), so the cached path
// shares nothing that is written per request. The first lookup of a key on a thread reads the
// shared table under a shared lock. Sharding the table by key would not help: one busy
// client's token always lands in the same shard.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/auth/auth_result.hpp"

namespace mcpd::core::auth {

// How long answers are kept: short, so a revoked, expired or disabled token is refused on every
// replica within `ttl` (PRODUCT §7 promises 5 s).
struct AuthCacheOptions {
  std::chrono::milliseconds ttl{2000};
  std::size_t max_entries = 10000;
  // How long a credential found valid stays "recently valid" (Authenticator::recently_valid):
  // long enough to outlast a guessing neighbour's lockout of a shared address.
  std::chrono::milliseconds recently_valid{std::chrono::minutes(10)};
};

class AuthCache {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit AuthCache(std::size_t max_entries);

  // The answer stored for key, if it is still fresh at `now`.
  std::optional<AuthResult> find(const std::string& key, TimePoint now) const;
  // The same, without a copy: this thread's own copy of the answer (made on the thread's first
  // lookup of it, so only this thread and whoever it hands the pointer to write its reference
  // count), or nullptr.
  std::shared_ptr<const AuthResult> find_shared(const std::string& key, TimePoint now) const;
  // Stores (or replaces) the answer for key until fresh_until. Nothing is stored when
  // fresh_until <= now, the cache has no room at all (max_entries = 0), or it was cleared after
  // generation `looked_up` (an answer read from storage before a clear() may be the very one
  // the clear was for).
  void remember(const std::string& key, const AuthResult& result, TimePoint now,
                TimePoint fresh_until, std::optional<std::uint64_t> looked_up = std::nullopt);
  // Forgets the answer for key.
  void forget(const std::string& key);
  // Forgets every answer and starts a new generation.
  void clear();
  std::uint64_t generation() const;
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const AuthResult> result;  // immutable: copied outside the lock
    TimePoint stored_at;
    TimePoint fresh_until;
    std::list<std::string>::iterator order;  // position in m_order
  };

  void drop_oldest();

  // Withdraws every thread's copies (the next lookup on each thread reads the shared table).
  void bump_epoch() { m_epoch.fetch_add(1, std::memory_order_release); }

  const std::uint64_t m_id;  // unique for the process's life: names this cache's front copies
  std::size_t m_max_entries;
  std::atomic<std::uint64_t> m_epoch{0};
  mutable std::shared_mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;
  std::list<std::string> m_order;  // keys, oldest stored first
  std::uint64_t m_generation = 0;  // clear()s so far
};

}  // namespace mcpd::core::auth
