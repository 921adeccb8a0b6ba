#include "storage/bearer_authenticator.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "core/auth/token.hpp"
#include "core/auth/validation.hpp"

namespace mcpd::storage {

namespace {

using core::auth::JwtFailure;

core::AuthOutcome refusal(std::string reason, bool unavailable = false) {
  core::AuthOutcome outcome;
  outcome.reason = std::move(reason);
  outcome.storage_unavailable = unavailable;
  return outcome;
}

}  // namespace

JwtAuthenticator::JwtAuthenticator(std::shared_ptr<TokenStore> store,
                                   core::auth::JwtVerifier verifier, AuthCacheOptions options,
                                   Clock clock)
    : m_store(std::move(store)),
      m_verifier(std::move(verifier)),
      m_options(options),
      m_clock(std::move(clock)),
      m_cache(options.max_entries) {}

core::AuthOutcome JwtAuthenticator::authenticate(std::string_view credential) {
  if (credential.empty()) return refusal("missing");
  const auto now = m_clock();
  // Verification is CPU only: refusals cost no storage and take no cache slot.
  const auto verified = m_verifier.verify(credential);
  if (!verified.ok()) return refusal(core::auth::reason_label(*verified.failure));

  const std::string key = core::auth::TokenHasher{}.hash(credential);
  if (auto cached = m_cache.find(key, now)) return std::move(*cached);

  core::AuthOutcome outcome;
  try {
    outcome = check_storage(verified.claims, std::chrono::floor<std::chrono::seconds>(now));
  } catch (const std::exception&) {
    outcome = refusal("unavailable", true);
  }
  if (outcome.storage_unavailable) return outcome;  // fail closed now, retry next time
  const auto fresh_until =
      std::min<AuthCache::TimePoint>(now + m_options.ttl, verified.claims.expires_at);
  m_cache.remember(key, outcome, now, fresh_until);
  return outcome;
}

std::optional<core::AuthOutcome> JwtAuthenticator::try_cached(std::string_view credential) {
  if (credential.empty()) return refusal("missing");
  return m_cache.find(core::auth::TokenHasher{}.hash(credential), m_clock());
}

core::AuthOutcome JwtAuthenticator::check_storage(const core::auth::JwtClaims& claims, Time now) {
  if (claims.jti) {
    auto revoked = m_store->is_jti_revoked(*claims.jti, now);
    if (!revoked) return refusal("unavailable", true);
    if (*revoked) return refusal(core::auth::reason_label(JwtFailure::revoked));
  }
  // A subject that names a known user follows that user's switch; others need no account.
  if (!core::auth::check_email(claims.subject)) {
    auto user = m_store->get_user(claims.subject);
    if (!user && user.error().failure != Failure::not_found) return refusal("unavailable", true);
    if (user && !user->is_active)
      return refusal(core::auth::reason_label(core::auth::AuthFailure::user_inactive));
  }
  core::AuthOutcome outcome;
  outcome.identity = core::auth::jwt_identity(claims);
  return outcome;
}

BearerAuthenticator::BearerAuthenticator(std::shared_ptr<core::Authenticator> opaque,
                                         std::shared_ptr<core::Authenticator> jwt,
                                         std::optional<core::ProtectedResource> resource)
    : m_opaque(std::move(opaque)), m_jwt(std::move(jwt)), m_resource(std::move(resource)) {}

core::AuthOutcome BearerAuthenticator::authenticate(std::string_view credential) {
  if (credential.empty()) return refusal("missing");
  if (!credential.starts_with(core::auth::k_token_prefix) &&
      core::auth::looks_like_jwt(credential)) {
    if (!m_jwt) return refusal(core::auth::reason_label(JwtFailure::disabled));
    return m_jwt->authenticate(credential);
  }
  return m_opaque->authenticate(credential);
}

std::optional<core::AuthOutcome> BearerAuthenticator::try_cached(std::string_view credential) {
  if (credential.empty()) return refusal("missing");
  if (!credential.starts_with(core::auth::k_token_prefix) &&
      core::auth::looks_like_jwt(credential)) {
    if (!m_jwt) return refusal(core::auth::reason_label(JwtFailure::disabled));
    return m_jwt->try_cached(credential);
  }
  return m_opaque->try_cached(credential);
}

core::ProtectedResource protected_resource_of(const core::Settings& settings) {
  core::ProtectedResource resource;
  const auto& jwt = settings.jwt;
  resource.resource = jwt.resource;
  if (resource.resource.empty() &&
      (jwt.audience.starts_with("https://") || jwt.audience.starts_with("http://")))
    resource.resource = jwt.audience;
  if (!jwt.issuer.empty()) resource.authorization_servers.push_back(jwt.issuer);
  resource.resource_name = settings.title.empty() ? settings.name : settings.title;
  return resource;
}

std::shared_ptr<core::Authenticator> make_authenticator(const core::Settings& settings,
                                                        std::shared_ptr<TokenStore> store,
                                                        AuthCacheOptions cache) {
  auto opaque = std::make_shared<CachedAuthenticator>(
      store, core::auth::TokenHasher::from_environment(), cache);
  if (!settings.jwt.enabled) return std::make_shared<BearerAuthenticator>(opaque, nullptr);
  auto jwt = std::make_shared<JwtAuthenticator>(
      store, core::auth::JwtVerifier::from_settings(settings.jwt), cache);
  return std::make_shared<BearerAuthenticator>(opaque, jwt, protected_resource_of(settings));
}

std::string describe_reason(std::string_view reason) {
  using core::auth::AuthFailure;
  for (auto failure : {AuthFailure::malformed, AuthFailure::unknown, AuthFailure::revoked,
                       AuthFailure::expired, AuthFailure::user_inactive, AuthFailure::unavailable})
    if (reason == core::auth::reason_label(failure)) return core::auth::describe(failure);
  for (auto failure :
       {JwtFailure::malformed, JwtFailure::alg, JwtFailure::header, JwtFailure::signature,
        JwtFailure::expired, JwtFailure::not_yet_valid, JwtFailure::issuer, JwtFailure::audience,
        JwtFailure::claims, JwtFailure::revoked, JwtFailure::disabled})
    if (reason == core::auth::reason_label(failure)) return core::auth::describe(failure);
  if (reason == "missing") return "no token";
  return "invalid token";
}

}  // namespace mcpd::storage
