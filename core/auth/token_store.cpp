#include "core/auth/token_store.hpp"

namespace mcpd::core::auth {

const char* to_string(Failure failure) {
  switch (failure) {
    case Failure::not_found:
      return "not found";
    case Failure::conflict:
      return "conflict";
    case Failure::unavailable:
      return "unavailable";
    case Failure::invalid:
      return "invalid";
  }
  return "invalid";
}

Result<void> TokenStore::record_usage(const Token& token, Time now) {
  if (token.last_used_at && now - *token.last_used_at < k_usage_interval) return {};
  {
    std::lock_guard lock(m_usage_mutex);
    auto it = m_usage_written.find(token.id);
    if (it != m_usage_written.end() && now - it->second < k_usage_interval) return {};
    // Bounded memory: entries older than the interval carry no information.
    if (m_usage_written.size() >= 10000) {
      std::erase_if(m_usage_written,
                    [&](const auto& entry) { return now - entry.second >= k_usage_interval; });
    }
    m_usage_written[token.id] = now;
  }
  auto written = write_last_used(token.id, now);
  if (!written) {
    std::lock_guard lock(m_usage_mutex);
    m_usage_written.erase(token.id);  // try again on the next use
  }
  return written;
}

}  // namespace mcpd::core::auth
