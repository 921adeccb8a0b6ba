#include "core/auth/authenticator.hpp"

#include <algorithm>
#include <utility>

#include "core/config/config.hpp"

namespace mcpd::core::auth {

namespace {

Time seconds_of(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

Identity identity_of(const TokenWithUser& record) {
  Identity identity;
  identity.user = record.user.email;
  identity.token_name = record.token.name;
  identity.allowed_tools = record.token.allowed_tools;
  return identity;
}

}  // namespace

Authenticator::Authenticator(std::shared_ptr<TokenStore> store, Options options)
    : m_store(std::move(store)),
      m_hasher(std::move(options.hasher)),
      m_jwt(std::move(options.jwt)),
      m_resource(std::move(options.resource)),
      m_cache_options(options.cache),
      m_clock(std::move(options.clock)),
      m_cache(std::make_shared<AuthCache>(m_cache_options.max_entries)),
      // Kept even when the answer cache is off (max_entries 0): it answers another question.
      m_recently_valid(std::max(m_cache_options.max_entries, AuthCacheOptions{}.max_entries)) {}

ChangeListener Authenticator::cache_invalidator() const {
  return [cache = m_cache](const std::string&) { cache->clear(); };
}

Credential Authenticator::read(std::string_view bearer) const {
  Credential credential;
  if (bearer.empty()) return credential;  // refused: missing
  if (!bearer.starts_with(k_token_prefix) && looks_like_jwt(bearer)) {
    if (!m_jwt) {
      credential.refusal = Refusal::jwt_disabled;
      return credential;
    }
    credential.kind = Credential::Kind::jwt;
    credential.text = std::string(bearer);  // verified later, off the I/O thread
  } else if (parse_token(bearer)) {
    credential.kind = Credential::Kind::opaque;
  } else {
    credential.refusal = Refusal::malformed;
    return credential;
  }
  credential.hash = m_hasher.hash(bearer);
  return credential;
}

bool Authenticator::recently_valid(const Credential& credential) const {
  return credential.kind != Credential::Kind::refused &&
         m_recently_valid.find(credential.hash, m_clock()).has_value();
}

std::shared_ptr<const AuthResult> Authenticator::try_cached(const Credential& credential) const {
  if (credential.kind == Credential::Kind::refused)
    return std::make_shared<const AuthResult>(credential.refusal);
  return m_cache->find_shared(credential.hash, m_clock());
}

AuthResult Authenticator::authenticate(const Credential& credential) {
  if (credential.kind == Credential::Kind::refused) return credential.refusal;
  const auto now = m_clock();
  std::optional<JwtResult> verified;
  if (credential.kind == Credential::Kind::jwt) {
    // Verification is CPU only: its refusals cost no storage and take no cache slot.
    verified = m_jwt->verify(credential.text);
    if (!verified->ok()) return *verified->failure;
  }
  if (auto cached = m_cache->find(credential.hash, now)) return std::move(*cached);

  auto fresh_until = now + m_cache_options.ttl;
  const auto generation = m_cache->generation();
  AuthResult result = Refusal::unavailable;
  try {
    if (verified) {
      fresh_until = std::min<AuthCache::TimePoint>(fresh_until, verified->claims.expires_at);
      result = check_claims(verified->claims, seconds_of(now));
    } else {
      result = check_token(credential.hash, seconds_of(now), fresh_until);
    }
  } catch (const std::exception&) {
    result = Refusal::unavailable;
  }
  if (result.refused(Refusal::unavailable)) return result;  // fail closed now, retry next time
  m_cache->remember(credential.hash, result, now, fresh_until, generation);
  if (result.ok())
    m_recently_valid.remember(credential.hash, result, now, now + m_cache_options.recently_valid);
  else
    m_recently_valid.forget(credential.hash);
  return result;
}

AuthResult Authenticator::check_token(const std::string& hash, Time now,
                                      AuthCache::TimePoint& fresh_until) {
  auto found = m_store->find_by_hash(hash);
  if (!found)
    return found.error().failure == Failure::not_found ? Refusal::unknown : Refusal::unavailable;
  const auto& [token, user] = *found;
  if (!token.is_active) return Refusal::revoked;
  if (token.expired(now)) return Refusal::expired;
  if (!user.is_active) return Refusal::user_inactive;
  // A failed usage write is an audit gap, not a reason to refuse the caller.
  (void)m_store->record_usage(token, now);
  if (token.expires_at)
    fresh_until = std::min<AuthCache::TimePoint>(fresh_until, *token.expires_at);
  return identity_of(*found);
}

AuthResult Authenticator::check_claims(const JwtClaims& claims, Time now) {
  if (claims.jti) {
    auto revoked = m_store->is_jti_revoked(*claims.jti, now);
    if (!revoked) return Refusal::unavailable;
    if (*revoked) return Refusal::jwt_revoked;
  }
  // A subject that names a known user follows that user's switch; others need no account.
  if (!check_email(claims.subject)) {
    auto user = m_store->get_user(claims.subject);
    if (!user && user.error().failure != Failure::not_found) return Refusal::unavailable;
    if (user && !user->is_active) return Refusal::user_inactive;
  }
  return jwt_identity(claims);
}

ProtectedResource protected_resource_of(const Settings& settings) {
  ProtectedResource resource;
  const auto& jwt = settings.jwt;
  resource.resource = jwt.resource;
  if (resource.resource.empty() &&
      (jwt.audience.starts_with("https://") || jwt.audience.starts_with("http://")))
    resource.resource = jwt.audience;
  if (!jwt.issuer.empty()) resource.authorization_servers.push_back(jwt.issuer);
  resource.resource_name = settings.title.empty() ? settings.name : settings.title;
  return resource;
}

std::shared_ptr<Authenticator> make_authenticator(const Settings& settings,
                                                  std::shared_ptr<TokenStore> store,
                                                  AuthCacheOptions cache) {
  Authenticator::Options options;
  options.hasher = TokenHasher{settings.token_pepper};
  options.cache = cache;
  if (settings.jwt.enabled) {
    options.jwt = JwtVerifier::from_settings(settings.jwt);
    options.resource = protected_resource_of(settings);
  }
  return std::make_shared<Authenticator>(std::move(store), std::move(options));
}

}  // namespace mcpd::core::auth
