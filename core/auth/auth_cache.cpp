#include "core/auth/auth_cache.hpp"

namespace mcpd::core::auth {

namespace {

std::atomic<std::uint64_t> g_next_cache_id{1};

// One thread's copy of an answer it read from the cache `cache_id` at `epoch`.
struct FrontEntry {
  std::uint64_t cache_id = 0;
  std::uint64_t epoch = 0;
  std::shared_ptr<const AuthResult> result;
  AuthCache::TimePoint stored_at;
  AuthCache::TimePoint fresh_until;
};

// Shared by every AuthCache a thread reads (entries name their cache); a few busy credentials
// per thread is the common case, and a full front simply starts over.
constexpr std::size_t k_front_entries = 256;
thread_local std::unordered_map<std::string, FrontEntry> t_front;

bool fresh(AuthCache::TimePoint now, AuthCache::TimePoint stored_at,
           AuthCache::TimePoint fresh_until) {
  return now >= stored_at && now < fresh_until;
}

}  // namespace

AuthCache::AuthCache(std::size_t max_entries)
    : m_id(g_next_cache_id.fetch_add(1, std::memory_order_relaxed)), m_max_entries(max_entries) {}

std::optional<AuthResult> AuthCache::find(const std::string& key, TimePoint now) const {
  auto found = find_shared(key, now);
  if (!found) return std::nullopt;
  return *found;
}

std::shared_ptr<const AuthResult> AuthCache::find_shared(const std::string& key,
                                                         TimePoint now) const {
  // Read before the table: a withdrawal after this point leaves the copy made below stale.
  const std::uint64_t epoch = m_epoch.load(std::memory_order_acquire);
  const auto copy = t_front.find(key);
  if (copy != t_front.end() && copy->second.cache_id == m_id && copy->second.epoch == epoch &&
      fresh(now, copy->second.stored_at, copy->second.fresh_until))
    return copy->second.result;

  std::shared_ptr<const AuthResult> shared;
  FrontEntry entry{m_id, epoch, nullptr, {}, {}};
  {
    std::shared_lock lock(m_mutex);
    const auto it = m_entries.find(key);
    if (it == m_entries.end()) return nullptr;
    if (!fresh(now, it->second.stored_at, it->second.fresh_until)) return nullptr;
    shared = it->second.result;
    entry.stored_at = it->second.stored_at;
    entry.fresh_until = it->second.fresh_until;
  }
  // The thread's own copy: the table's object is shared by every thread, and handing out
  // pointers to it would have them all write one reference count per request.
  entry.result = std::make_shared<const AuthResult>(*shared);
  if (copy != t_front.end()) {
    copy->second = std::move(entry);
    return copy->second.result;
  }
  if (t_front.size() >= k_front_entries) t_front.clear();
  return t_front.emplace(key, std::move(entry)).first->second.result;
}

void AuthCache::remember(const std::string& key, const AuthResult& result, TimePoint now,
                         TimePoint fresh_until, std::optional<std::uint64_t> looked_up) {
  if (m_max_entries == 0 || fresh_until <= now) return;
  auto shared = std::make_shared<const AuthResult>(result);
  std::lock_guard lock(m_mutex);
  if (looked_up && *looked_up != m_generation) return;
  if (const auto it = m_entries.find(key); it != m_entries.end()) {
    it->second.result = std::move(shared);
    bump_epoch();  // other threads may hold the answer it replaces
    it->second.stored_at = now;
    it->second.fresh_until = fresh_until;
    m_order.splice(m_order.end(), m_order, it->second.order);
    return;
  }
  // Entries are stored in time order, so the stale ones are at the front.
  while (!m_order.empty()) {
    const auto& oldest = m_entries.at(m_order.front());
    if (now >= oldest.stored_at && now < oldest.fresh_until) break;
    drop_oldest();
  }
  while (m_entries.size() >= m_max_entries) drop_oldest();
  m_order.push_back(key);
  m_entries.emplace(key, Entry{std::move(shared), now, fresh_until, std::prev(m_order.end())});
}

void AuthCache::drop_oldest() {
  m_entries.erase(m_order.front());
  m_order.pop_front();
}

void AuthCache::forget(const std::string& key) {
  std::lock_guard lock(m_mutex);
  bump_epoch();  // a thread may hold a copy even after the table dropped it as the oldest
  const auto it = m_entries.find(key);
  if (it == m_entries.end()) return;
  m_order.erase(it->second.order);
  m_entries.erase(it);
}

void AuthCache::clear() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
  m_order.clear();
  ++m_generation;
  bump_epoch();
}

std::uint64_t AuthCache::generation() const {
  std::shared_lock lock(m_mutex);
  return m_generation;
}

std::size_t AuthCache::size() const {
  std::shared_lock lock(m_mutex);
  return m_entries.size();
}

}  // namespace mcpd::core::auth
