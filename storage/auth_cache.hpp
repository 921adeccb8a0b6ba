#pragma once
// A short-lived, bounded memory of authentication answers, keyed by a hash of the credential
// (never the credential itself). Each answer is fresh from the moment it was stored until its
// own deadline; a clock that steps back makes every entry stale. Oldest entries go first when
// the cache is full. Thread-safe. Used by the opaque-token and the JWT authenticators.
//
// Lookups run on the HTTP I/O threads for every authenticated request, so they take a shared
// lock only (readers never wait for each other) and copy the answer outside it. Sharding by key
// would not help the common case: one busy client's token always lands in the same shard.

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/auth/authenticator.hpp"

namespace mcpd::storage {

class AuthCache {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit AuthCache(std::size_t max_entries) : m_max_entries(max_entries) {}

  // The answer stored for key, if it is still fresh at `now`.
  std::optional<core::AuthOutcome> find(const std::string& key, TimePoint now) const;
  // Stores (or replaces) the answer for key until fresh_until. Nothing is stored when
  // fresh_until <= now or the cache has no room at all (max_entries = 0).
  void remember(const std::string& key, const core::AuthOutcome& outcome, TimePoint now,
                TimePoint fresh_until);
  void clear();
  std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const core::AuthOutcome> outcome;  // immutable: copied outside the lock
    TimePoint stored_at;
    TimePoint fresh_until;
    std::list<std::string>::iterator order;  // position in m_order
  };

  void drop_oldest();

  std::size_t m_max_entries;
  mutable std::shared_mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries;
  std::list<std::string> m_order;  // keys, oldest stored first
};

}  // namespace mcpd::storage
