#pragma once
// What authentication answers: who is calling and which tools they may call (an Identity), or
// why not (a Refusal). One enum covers opaque tokens, JWTs and the HTTP gate's own checks, and
// one table (auth_result.cpp) maps each refusal to its metric label, its wording and its HTTP
// status, so transports, logs and metrics cannot disagree.

#include <string_view>
#include <variant>

#include "core/protocol/call.hpp"

namespace mcpd::core::auth {

enum class Refusal {
  missing,        // no credential: how clients discover that authentication is required
  malformed,      // neither an mcpd token (prefix, length, alphabet, checksum) nor a JWT, or a
                  // bad Authorization header; never looked up
  unknown,        // no token with that hash
  revoked,        // the token's is_active = false
  expired,        // the token's expires_at <= now
  user_inactive,  // the token's user (or the JWT subject's) is disabled
  unavailable,    // storage could not answer: fail closed, retry later; never cached
  query_token,    // a credential in the URL query string: refused and never used
  // JWTs (core/auth/jwt.hpp): the verifier's refusals, then the policy's.
  jwt_malformed,      // not three base64url segments, bad JSON, header not an object, too long
  jwt_alg,            // alg is not the configured one (none, another, or a mismatch)
  jwt_header,         // crit present, or typ other than JWT / at+jwt
  jwt_signature,      // the signature does not verify with the configured key
  jwt_expired,        // exp <= now
  jwt_not_yet_valid,  // nbf or iat later than now + leeway
  jwt_issuer,         // iss differs from the configured issuer
  jwt_audience,       // aud does not contain the configured audience
  jwt_claims,         // exp or sub missing or of the wrong type, bad tools/scope
  jwt_revoked,        // the jti is on the revoked list
  jwt_disabled,       // a JWT was presented but JWT authentication is not configured
};

// Stable snake_case label for mcp_auth_failures_total{reason} and logs: "user_inactive",
// "jwt_expired", ... (never anything from the credential).
std::string_view reason_label(Refusal refusal);
// Wording for people (stdio refusals, the startup error): "token revoked", "JWT expired", ...
std::string_view describe(Refusal refusal);
// What an HTTP transport answers: 503 for unavailable (with Retry-After), 400 for query_token,
// 401 (with a WWW-Authenticate challenge) for everything else.
unsigned http_status(Refusal refusal);

class AuthResult {
 public:
  // Implicit, so a check returns either an Identity or a Refusal.
  AuthResult(Identity identity) : m_value(std::move(identity)) {}
  AuthResult(Refusal refusal) : m_value(refusal) {}

  bool ok() const noexcept { return m_value.index() == 0; }
  bool refused(Refusal refusal) const noexcept { return !ok() && std::get<1>(m_value) == refusal; }
  // Preconditions: ok() for identity(), !ok() for refusal().
  const Identity& identity() const& { return std::get<0>(m_value); }
  Identity identity() && { return std::get<0>(std::move(m_value)); }
  Refusal refusal() const { return std::get<1>(m_value); }

  // The caller as the dispatcher keeps it for a session: the identity, or one with valid = false
  // and the refusal's wording, whose tool calls are refused (stdio after a revocation).
  Identity session_identity() const;

 private:
  std::variant<Identity, Refusal> m_value;
};

}  // namespace mcpd::core::auth
