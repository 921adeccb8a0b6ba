#pragma once
// Authentication policy: turns a bearer credential into an AuthResult. `mcpd_` opaque tokens go
// through the seed's chain against the TokenStore (exists -> active -> not expired -> user active
// -> record usage); JWT-shaped credentials (base64url segments joined by dots) through the JWT
// verifier when auth.jwt is configured (refused as jwt_disabled otherwise), then through storage
// so every replica agrees: the jti must not be revoked and, when a user with the sub's e-mail
// exists, that user must be active (JWT users need not exist in the users table).
//
// A credential is read once per request (read(): its kind and its hash, no I/O); the hash keys
// one short-lived cache of answers, refusals included (AuthCacheOptions: 2 s, so revocation,
// expiry and disabled users take effect on every replica within it even when change notices
// are lost; with PostgreSQL they arrive at once, see cache_invalidator(); a success never
// outlives the token's expiry or the JWT's exp). Malformed credentials never reach storage nor take
// a cache slot; storage failures fail closed (unavailable) and are not cached. Thread-safe.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/auth_cache.hpp"
#include "core/auth/auth_result.hpp"
#include "core/auth/jwt.hpp"
#include "core/auth/token.hpp"
#include "core/auth/token_store.hpp"

namespace mcpd::core {
struct Settings;
}

namespace mcpd::core::auth {

// RFC 9728 protected resource metadata, offered when tokens come from an authorization server
// (JWT). The HTTP transport serves it at /.well-known/oauth-protected-resource and points its
// 401 challenges there.
struct ProtectedResource {
  std::string resource;  // this server's URL as tokens name it; empty = derived from the request
  std::vector<std::string> authorization_servers;  // the JWT issuer, when configured
  std::string resource_name;                       // optional display name
};

// A bearer credential as read(): what it is, and the hash that keys the cache and (for opaque
// tokens) the storage lookup. Only a JWT keeps its text, for the signature check: never log it.
struct Credential {
  enum class Kind { refused, opaque, jwt };
  Kind kind = Kind::refused;
  Refusal refusal = Refusal::missing;  // when refused: missing, malformed or jwt_disabled
  std::string text;                    // JWTs only
  std::string hash;                    // TokenHasher::hash of the credential; empty when refused
};

class Authenticator {
 public:
  // Wall clock: expiry is compared with it, and the cache uses it for its lifetime (an entry
  // whose time lies in the future after the clock stepped back counts as stale).
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  struct Options {
    TokenHasher hasher;                         // how opaque tokens were hashed for storage
    std::optional<JwtVerifier> jwt;             // nullopt: JWTs are refused as jwt_disabled
    std::optional<ProtectedResource> resource;  // what protected_resource() offers
    AuthCacheOptions cache;
    Clock clock = &std::chrono::system_clock::now;
  };

  Authenticator(std::shared_ptr<TokenStore> store, Options options);

  // `bearer` is the value after "Bearer ". No I/O: cheap enough for an I/O thread.
  Credential read(std::string_view bearer) const;
  // The answer authenticate() would give when it is known without blocking: an early refusal
  // (missing, malformed, jwt_disabled) or a fresh cached answer. nullopt: ask authenticate(),
  // off the I/O thread. A cached JWT answer is served without checking the signature again: it
  // was checked when it was stored, and the entry never outlives the JWT's exp. A cached answer
  // is the calling thread's own copy, shared rather than copied (see AuthCache::find_shared).
  std::shared_ptr<const AuthResult> try_cached(const Credential& credential) const;
  // The whole check; may block on storage. Never throws.
  AuthResult authenticate(const Credential& credential);
  AuthResult authenticate(std::string_view bearer) { return authenticate(read(bearer)); }

  // Whether this credential was found valid by a lookup in the last
  // AuthCacheOptions::recently_valid (10 min) and not refused since, in this process. It is no
  // answer (revocation still needs authenticate()), only a sign that checking it is no guess:
  // the HTTP auth gate lets such a credential reach a lookup even from an address the
  // failed-authentication limiter is stopping. Not cleared by change notices, for that reason.
  bool recently_valid(const Credential& credential) const;

  const std::optional<ProtectedResource>& protected_resource() const { return m_resource; }

  std::size_t cache_size() const { return m_cache->size(); }
  // Forgets every cached answer (e.g. after an administrative change in this process).
  void clear_cache() { m_cache->clear(); }
  // What TokenStore::watch_changes calls: every notice clears the whole cache (changes are rare,
  // and each costs the active credentials one storage lookup). Holds the cache, not *this.
  ChangeListener cache_invalidator() const;

 private:
  // The storage part of each chain, given seconds-precision `now`. `fresh_until` is lowered to
  // the credential's own expiry where the answer must not outlive it.
  AuthResult check_token(const std::string& hash, Time now, AuthCache::TimePoint& fresh_until);
  AuthResult check_claims(const JwtClaims& claims, Time now);

  std::shared_ptr<TokenStore> m_store;
  TokenHasher m_hasher;
  std::optional<JwtVerifier> m_jwt;
  std::optional<ProtectedResource> m_resource;
  AuthCacheOptions m_cache_options;
  Clock m_clock;
  std::shared_ptr<AuthCache> m_cache;  // credential hash -> answer; shared with the invalidator
  AuthCache m_recently_valid;          // credential hash -> its last successful lookup
};

// The daemon's authenticator from its settings: opaque tokens (hashed with the settings' token
// pepper) and, when auth.jwt is enabled, JWTs with the RFC 9728 metadata. Throws
// mcpd::Error for an unusable JWT key.
std::shared_ptr<Authenticator> make_authenticator(const Settings& settings,
                                                  std::shared_ptr<TokenStore> store,
                                                  AuthCacheOptions cache = {});

// The RFC 9728 metadata the settings describe (resource: auth.jwt.resource, else the audience
// when it is an http(s) URL, else empty = derived per request).
ProtectedResource protected_resource_of(const Settings& settings);

}  // namespace mcpd::core::auth
