#include "storage/cached_authenticator.hpp"

#include <algorithm>

#include "core/auth/validation.hpp"
#include "storage/identity_provider.hpp"

namespace mcpd::storage {

namespace {

core::AuthOutcome refusal(std::string reason) {
  core::AuthOutcome outcome;
  outcome.reason = std::move(reason);
  return outcome;
}

}  // namespace

CachedAuthenticator::CachedAuthenticator(std::shared_ptr<TokenStore> store,
                                         core::auth::TokenHasher hasher, AuthCacheOptions options,
                                         Clock clock)
    : m_store(std::move(store)),
      m_hasher(std::move(hasher)),
      m_options(options),
      m_clock(std::move(clock)) {}

core::AuthOutcome CachedAuthenticator::authenticate(std::string_view credential) {
  using core::auth::AuthFailure;
  if (credential.empty()) return refusal("missing");
  // Garbage never reaches storage nor takes a cache slot.
  if (!core::auth::parse_token(credential)) {
    return refusal(core::auth::reason_label(AuthFailure::malformed));
  }

  const auto now = m_clock();
  const std::string key = m_hasher.hash(credential);
  {
    std::lock_guard lock(m_mutex);
    if (const auto it = m_entries.find(key); it != m_entries.end()) {
      const auto& entry = it->second;
      if (now >= entry.stored_at && now < entry.fresh_until) return entry.outcome;
    }
  }

  core::auth::Validation validation;
  try {
    validation = validate_token(*m_store, m_hasher, credential,
                                std::chrono::floor<std::chrono::seconds>(now));
  } catch (const std::exception&) {
    validation = {};
    validation.failure = AuthFailure::unavailable;
  }

  core::AuthOutcome outcome;
  if (validation.ok()) {
    outcome.identity = validation.identity();
  } else {
    outcome.reason = core::auth::reason_label(*validation.failure);
    outcome.storage_unavailable = *validation.failure == AuthFailure::unavailable;
  }
  if (outcome.storage_unavailable) return outcome;  // fail closed now, retry next time

  auto fresh_until = now + m_options.ttl;
  if (validation.ok() && validation.record->token.expires_at) {
    fresh_until = std::min<TimePoint>(fresh_until, *validation.record->token.expires_at);
  }
  remember(key, outcome, now, fresh_until);
  return outcome;
}

void CachedAuthenticator::remember(const std::string& key, const core::AuthOutcome& outcome,
                                   TimePoint now, TimePoint fresh_until) {
  if (m_options.max_entries == 0 || fresh_until <= now) return;
  std::lock_guard lock(m_mutex);
  if (const auto it = m_entries.find(key); it != m_entries.end()) {
    it->second.outcome = outcome;
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
  while (m_entries.size() >= m_options.max_entries) drop_oldest();
  m_order.push_back(key);
  m_entries.emplace(key, Entry{outcome, now, fresh_until, std::prev(m_order.end())});
}

void CachedAuthenticator::drop_oldest() {
  m_entries.erase(m_order.front());
  m_order.pop_front();
}

void CachedAuthenticator::clear() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
  m_order.clear();
}

std::size_t CachedAuthenticator::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

}  // namespace mcpd::storage
