#pragma once
// Bearer JWTs (compact JWS, RFC 7515/7519) checked with one configured key bound to one
// algorithm: HS256 (a shared secret of at least 32 bytes) or RS256 (an RSA public key of at
// least 2048 bits). The header's `alg` only has to agree with the configured algorithm; it never
// chooses the key or the algorithm, so `none` and the HS256-with-the-RSA-public-key confusion
// are refused.
//
// Claims: `exp` (required, numeric, no leeway), `nbf` and `iat` (optional, 60 s leeway; an `iat`
// further in the future is refused), `iss` and `aud` (string or array) when configured, `sub`
// (required: the user), and the tool allow-list: a `tools` array of names, else `scope` entries
// `tools:<name>`, else all tools. Revoked `jti`s are the Authenticator's matter
// (core/auth/authenticator.hpp). Pure CPU: no I/O after construction. Tokens and keys are never
// logged.

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/auth_result.hpp"
#include "core/auth/records.hpp"
#include "core/util/crypto.hpp"
#include "core/protocol/call.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace mcpd::core {
struct JwtSettings;
}

namespace mcpd::core::auth {

inline constexpr std::size_t k_jwt_max_length = 8192;  // bytes of the compact form
inline constexpr std::chrono::seconds k_jwt_leeway{60};

// Three dot-separated non-empty segments of base64url characters: worth handing to the JWT
// verifier (anything else goes to the opaque token path).
bool looks_like_jwt(std::string_view credential);

struct JwtClaims {
  std::string subject;
  std::optional<std::string> jti;
  Time expires_at{};
  std::vector<std::string> allowed_tools;  // empty = all tools
  nlohmann::json payload;                  // every claim, as sent
};

struct JwtResult {
  std::optional<Refusal> failure;  // one of the jwt_* refusals; nullopt = valid
  std::string detail;              // why, for debug logs (never the token or a key)
  JwtClaims claims;                // set when valid

  bool ok() const { return !failure; }
};

struct JwtKey {
  std::string algorithm;       // "HS256" or "RS256"
  std::string secret;          // HS256
  std::string public_key_pem;  // RS256: "-----BEGIN PUBLIC KEY-----" (SPKI) or RSA PUBLIC KEY
};

struct JwtExpectations {
  std::string issuer;    // empty = not checked
  std::string audience;  // empty = not checked
  std::chrono::seconds leeway = k_jwt_leeway;
};

class JwtVerifier {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Throws mcpd::Error for an unusable key: unknown algorithm, a secret shorter than 32 bytes,
  // a PEM that is not an RSA public key, or an RSA key under 2048 bits.
  JwtVerifier(const JwtKey& key, JwtExpectations expectations,
              Clock clock = &std::chrono::system_clock::now);
  // From the auth.jwt settings (reads public_key_file for RS256).
  static JwtVerifier from_settings(const JwtSettings& settings);

  // Signature and claims; the jti is not checked here. Thread-safe.
  JwtResult verify(std::string_view token) const;

  const std::string& algorithm() const { return m_algorithm; }

 private:
  bool signature_ok(std::string_view signed_part, std::string_view signature) const;
  JwtResult check_header(const nlohmann::json& header) const;
  JwtResult check_claims(nlohmann::json payload) const;

  std::string m_algorithm;
  std::string m_secret;
  std::shared_ptr<evp_pkey_st> m_public_key;
  JwtExpectations m_expect;
  Clock m_clock;
};

// The caller as the dispatcher sees a verified JWT: user = sub, token_name = "jwt", the tools
// claim as the allow-list.
Identity jwt_identity(const JwtClaims& claims);

}  // namespace mcpd::core::auth
