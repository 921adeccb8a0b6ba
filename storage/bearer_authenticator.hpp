#pragma once
// Bearer credentials of both kinds side by side: `mcpd_` opaque tokens go to the token store
// (CachedAuthenticator), JWT-shaped credentials (base64url segments joined by dots) to the JWT
// verifier when auth.jwt is configured (refused as "jwt_disabled" otherwise).
//
// A JWT that verifies is then checked against storage, so every replica agrees: its jti must
// not be on the revoked list, and when a user with the sub's e-mail exists it must be active
// (JWT users need not exist in the users table). Answers are cached like opaque tokens' (2 s,
// keyed by the token's SHA-256, never past the JWT's exp); storage failures fail closed (503)
// and are not cached.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth/jwt.hpp"
#include "core/auth/authenticator.hpp"
#include "core/config/config.hpp"
#include "storage/auth_cache.hpp"
#include "storage/cached_authenticator.hpp"
#include "storage/token_store.hpp"

namespace mcpd::storage {

class JwtAuthenticator final : public core::Authenticator {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  JwtAuthenticator(std::shared_ptr<TokenStore> store, core::auth::JwtVerifier verifier,
                   AuthCacheOptions options = {}, Clock clock = &std::chrono::system_clock::now);

  // Reasons: the verifier's ("jwt_malformed", "jwt_alg", "jwt_signature", ...), "jwt_revoked",
  // "user_inactive", "unavailable" (with storage_unavailable = true).
  core::AuthOutcome authenticate(std::string_view credential) override;
  // A fresh cached answer for this exact credential: it verified when it was stored, and the
  // cache never keeps it past the JWT's exp. nullopt on a miss (verification is left to
  // authenticate(): it costs a signature check).
  std::optional<core::AuthOutcome> try_cached(std::string_view credential) override;

 private:
  core::AuthOutcome check_storage(const core::auth::JwtClaims& claims, Time now);

  std::shared_ptr<TokenStore> m_store;
  core::auth::JwtVerifier m_verifier;
  AuthCacheOptions m_options;
  Clock m_clock;
  AuthCache m_cache;  // token hash -> answer
};

class BearerAuthenticator final : public core::Authenticator {
 public:
  // `jwt` may be null (JWT not configured); `resource` is what protected_resource() offers.
  BearerAuthenticator(std::shared_ptr<core::Authenticator> opaque,
                      std::shared_ptr<core::Authenticator> jwt,
                      std::optional<core::ProtectedResource> resource = std::nullopt);

  core::AuthOutcome authenticate(std::string_view credential) override;
  std::optional<core::AuthOutcome> try_cached(std::string_view credential) override;
  std::optional<core::ProtectedResource> protected_resource() const override { return m_resource; }

 private:
  std::shared_ptr<core::Authenticator> m_opaque;
  std::shared_ptr<core::Authenticator> m_jwt;
  std::optional<core::ProtectedResource> m_resource;
};

// The daemon's authenticator from its settings: opaque tokens (hashed with the pepper from
// the environment) and, when auth.jwt is enabled, JWTs with the RFC 9728 metadata. Throws
// mcpd::Error for an unusable JWT key.
std::shared_ptr<core::Authenticator> make_authenticator(const core::Settings& settings,
                                                        std::shared_ptr<TokenStore> store,
                                                        AuthCacheOptions cache = {});

// The RFC 9728 metadata the settings describe (resource: auth.jwt.resource, else the audience
// when it is an http(s) URL, else empty = derived per request).
core::ProtectedResource protected_resource_of(const core::Settings& settings);

// Human wording for a failure label of either token kind ("jwt_expired" -> "JWT expired").
std::string describe_reason(std::string_view reason);

}  // namespace mcpd::storage
