#include "storage/identity_provider.hpp"

#include "storage/bearer_authenticator.hpp"

namespace mcpd::storage {

core::auth::Validation validate_token(TokenStore& store, const core::auth::TokenHasher& hasher,
                                      std::string_view presented, Time now) {
  auto find = [&store](const std::string& hash) {
    core::auth::TokenLookup lookup;
    auto found = store.find_by_hash(hash);
    if (found)
      lookup.found = std::move(*found);
    else
      lookup.unavailable = found.error().failure != Failure::not_found;
    return lookup;
  };
  // A failed usage write is an audit gap, not a reason to refuse the caller.
  auto record = [&store](const Token& token, Time at) { (void)store.record_usage(token, at); };
  return core::auth::validate_token(presented, hasher, now, find, record);
}

IdentityProvider::IdentityProvider(std::shared_ptr<TokenStore> store, std::string token,
                                   core::auth::TokenHasher hasher)
    : m_store(std::move(store)), m_token(std::move(token)), m_hasher(std::move(hasher)) {}

IdentityProvider::IdentityProvider(std::shared_ptr<core::Authenticator> authenticator,
                                   std::string token)
    : m_authenticator(std::move(authenticator)), m_token(std::move(token)) {}

core::Identity IdentityProvider::resolve_with_authenticator() {
  core::AuthOutcome outcome;
  try {
    outcome = m_authenticator->authenticate(m_token);
  } catch (const std::exception&) {
    outcome.reason = "unavailable";
    outcome.storage_unavailable = true;
  }
  if (outcome.identity) {
    m_last_failure.reset();
    return std::move(*outcome.identity);
  }
  // The chain's own failure when the label is one of its own; any other refusal (a JWT's)
  // counts as an unknown token.
  m_last_failure = core::auth::AuthFailure::unknown;
  for (auto failure : {core::auth::AuthFailure::malformed, core::auth::AuthFailure::revoked,
                       core::auth::AuthFailure::expired, core::auth::AuthFailure::user_inactive,
                       core::auth::AuthFailure::unavailable})
    if (outcome.reason == core::auth::reason_label(failure)) m_last_failure = failure;
  if (outcome.storage_unavailable) m_last_failure = core::auth::AuthFailure::unavailable;
  core::Identity identity;
  identity.valid = false;
  identity.invalid_reason = describe_reason(outcome.reason);
  return identity;
}

core::Identity IdentityProvider::resolve() {
  return resolve(core::auth::now_seconds());
}

std::optional<core::auth::AuthFailure> IdentityProvider::last_failure() const {
  std::lock_guard lock(m_mutex);
  return m_last_failure;
}

core::Identity IdentityProvider::resolve(Time now) {
  std::lock_guard lock(m_mutex);
  if (m_authenticator) return resolve_with_authenticator();
  try {
    const auto validation = validate_token(*m_store, m_hasher, m_token, now);
    m_last_failure = validation.failure;
    return validation.identity();
  } catch (const std::exception&) {
    m_last_failure = core::auth::AuthFailure::unavailable;
    core::Identity identity;
    identity.valid = false;
    identity.invalid_reason = core::auth::describe(core::auth::AuthFailure::unavailable);
    return identity;
  }
}

}  // namespace mcpd::storage
