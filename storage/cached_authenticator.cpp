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

// Refusals that need neither storage nor the cache. Garbage never reaches storage nor takes a
// cache slot.
std::optional<core::AuthOutcome> refuse_early(std::string_view credential) {
  if (credential.empty()) return refusal("missing");
  if (!core::auth::parse_token(credential))
    return refusal(core::auth::reason_label(core::auth::AuthFailure::malformed));
  return std::nullopt;
}

}  // namespace

CachedAuthenticator::CachedAuthenticator(std::shared_ptr<TokenStore> store,
                                         core::auth::TokenHasher hasher, AuthCacheOptions options,
                                         Clock clock)
    : m_store(std::move(store)),
      m_hasher(std::move(hasher)),
      m_options(options),
      m_clock(std::move(clock)),
      m_cache(m_options.max_entries) {}

core::AuthOutcome CachedAuthenticator::authenticate(std::string_view credential) {
  using core::auth::AuthFailure;
  if (auto refused = refuse_early(credential)) return std::move(*refused);

  const auto now = m_clock();
  const std::string key = m_hasher.hash(credential);
  if (auto cached = m_cache.find(key, now)) return std::move(*cached);

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
    fresh_until = std::min<AuthCache::TimePoint>(fresh_until, *validation.record->token.expires_at);
  }
  m_cache.remember(key, outcome, now, fresh_until);
  return outcome;
}

std::optional<core::AuthOutcome> CachedAuthenticator::try_cached(std::string_view credential) {
  if (auto refused = refuse_early(credential)) return refused;
  return m_cache.find(m_hasher.hash(credential), m_clock());
}

void CachedAuthenticator::clear() {
  m_cache.clear();
}

std::size_t CachedAuthenticator::size() const {
  return m_cache.size();
}

}  // namespace mcpd::storage
