#include "core/auth/auth_cache.hpp"

namespace mcpd::core::auth {

std::optional<AuthResult> AuthCache::find(const std::string& key, TimePoint now) const {
  std::shared_ptr<const AuthResult> result;
  {
    std::shared_lock lock(m_mutex);
    const auto it = m_entries.find(key);
    if (it == m_entries.end()) return std::nullopt;
    const auto& entry = it->second;
    if (now < entry.stored_at || now >= entry.fresh_until) return std::nullopt;
    result = entry.result;
  }
  return *result;
}

void AuthCache::remember(const std::string& key, const AuthResult& result, TimePoint now,
                         TimePoint fresh_until, std::optional<std::uint64_t> looked_up) {
  if (m_max_entries == 0 || fresh_until <= now) return;
  auto shared = std::make_shared<const AuthResult>(result);
  std::lock_guard lock(m_mutex);
  if (looked_up && *looked_up != m_generation) return;
  if (const auto it = m_entries.find(key); it != m_entries.end()) {
    it->second.result = std::move(shared);
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
