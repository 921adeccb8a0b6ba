// Fuzzes bearer credentials: the opaque token format (parse_token, last8_of), looks_like_jwt
// and the JWT verifier with an HS256 key, an issuer and an audience. The first byte chooses
// what the rest is:
//   'T' (or anything else): a credential, checked as it is;
//   'S': "<header JSON>\n<payload JSON>", base64url-encoded and signed with the verifier's key,
//        so that the header and claim checks behind the signature are reached.
//
// Invariants: parse_token accepts only k_token_length characters with the mcpd_ prefix;
// the verifier never throws, refuses what looks_like_jwt refuses and anything longer than
// k_jwt_max_length, and a token it accepts has a subject and an expiry after the clock;
// a token signed with another key is always refused.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/auth/jwt.hpp"
#include "core/auth/token.hpp"
#include "core/util/crypto.hpp"

using namespace mcpd::core;
using namespace mcpd::core::auth;

namespace {

const std::string k_secret = "0123456789abcdef0123456789abcdef-fuzz";
// 2026-01-01T00:00:00Z: fixed, so that every run decides exp and nbf alike.
const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

const JwtVerifier& verifier() {
  static const JwtVerifier v(JwtKey{"HS256", k_secret, ""},
                             JwtExpectations{"https://issuer.example", "mcpd", k_jwt_leeway},
                             [] { return k_now; });
  return v;
}

const JwtVerifier& open_verifier() {  // no issuer or audience expected
  static const JwtVerifier v(JwtKey{"HS256", k_secret, ""}, JwtExpectations{}, [] { return k_now; });
  return v;
}

std::string hex_to_bytes(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::string sign(std::string_view secret, std::string_view header, std::string_view payload) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(hex_to_bytes(hmac_sha256_hex(secret, input)));
}

void verify(std::string_view token) {
  const bool jwt_shaped = looks_like_jwt(token);
  for (const JwtVerifier* v : {&verifier(), &open_verifier()}) {
    const JwtResult result = v->verify(token);
    if (!result.ok()) continue;
    check(jwt_shaped, "an accepted JWT looks like one");
    check(token.size() <= k_jwt_max_length, "an accepted JWT is not too long");
    check(!result.claims.subject.empty(), "an accepted JWT has a subject");
    check(result.claims.expires_at > k_now, "an accepted JWT has not expired");
    const Identity identity = jwt_identity(result.claims);
    check(identity.user == result.claims.subject, "the identity is the subject");
  }
}

void opaque(std::string_view token) {
  if (const auto parsed = parse_token(token)) {
    check(token.size() == k_token_length, "a parsed token has the token length");
    check(token.substr(0, k_token_prefix.size()) == k_token_prefix, "a parsed token has the prefix");
    check(parsed->body.size() == k_token_body_length, "the body has its length");
    check(parsed->checksum.size() == k_token_checksum_length, "the checksum has its length");
  }
  (void)last8_of(token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] != 'S') {
    opaque(rest);
    verify(rest);
    return 0;
  }
  const std::size_t newline = rest.find('\n');
  const std::string_view header = rest.substr(0, newline);
  const std::string_view payload =
      newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  verify(sign(k_secret, header, payload));
  const std::string forged = sign("another key, as long as the real one", header, payload);
  check(!verifier().verify(forged).ok() && !open_verifier().verify(forged).ok(),
        "a token signed with another key is refused");
  return 0;
}
