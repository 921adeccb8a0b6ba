// The JWT verifier: RFC 7515 example vectors, then every refusal (alg, signature, time claims,
// issuer, audience, subject, tools, malformed input) with tokens made here with OpenSSL.
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <catch2/catch.hpp>

#include "core/auth/jwt.hpp"
#include "core/config/error.hpp"
#include "test_jwt_support.hpp"

using namespace mcpd;
using core::auth::JwtVerifier;
using core::auth::Refusal;
using test::json;

namespace {

using SystemClock = std::chrono::system_clock;
constexpr std::int64_t k_now = 1'700'000'000;

JwtVerifier::Clock at(std::int64_t seconds) {
  return [seconds] { return SystemClock::time_point{std::chrono::seconds{seconds}}; };
}

JwtVerifier hs256(core::auth::JwtExpectations expect = {}, std::int64_t now = k_now,
                  std::string secret = test::k_secret) {
  return JwtVerifier({"HS256", std::move(secret), ""}, std::move(expect), at(now));
}

JwtVerifier rs256(const std::string& pem, core::auth::JwtExpectations expect = {},
                  std::int64_t now = k_now) {
  return JwtVerifier({"RS256", "", pem}, std::move(expect), at(now));
}

json claims(json extra = json::object()) {
  json payload = {
      {"sub", "ada@example.com"}, {"exp", k_now + 600}, {"iat", k_now}, {"jti", "jwt-1"}};
  payload.update(extra);
  return payload;
}

std::optional<Refusal> failure_of(const JwtVerifier& verifier, const std::string& token) {
  return verifier.verify(token).failure;
}

// RFC 7515 Appendix A.1 (HS256) and A.2 (RS256): both sign the same payload,
// {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} -- no sub.
const std::string k_a1_token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string k_a1_key =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const std::string k_a2_token =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L"
    "07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUip"
    "UTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const std::string k_a2_n =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJPMEzP1Pt0Bm4d4Q"
    "lL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbB"
    "YUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DW"
    "NmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const std::string k_a2_e = "AQAB";
constexpr std::int64_t k_rfc_exp = 1300819380;

// The JWK's n and e as a PEM public key, through OpenSSL's own key builder.
std::string pem_from_jwk(const std::string& n64, const std::string& e64) {
  const auto n = core::base64url_decode(n64);
  const auto e = core::base64url_decode(e64);
  REQUIRE(n);
  REQUIRE(e);
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(builder);
  BN_free(bn_n);
  BN_free(bn_e);
  return pem;
}

// One character of the signature changed (still valid base64url).
std::string tampered(std::string token) {
  char& c = token[token.size() - 5];
  c = c == 'A' ? 'B' : 'A';
  return token;
}

const test::RsaKey& rsa_key() {
  static const test::RsaKey key = test::RsaKey::generate(2048);
  return key;
}

}  // namespace

TEST_CASE("base64url: unpadded, strict", "[core][jwt]") {
  using core::base64url_decode;
  using core::base64url_encode;
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  for (std::string text : {"", "f", "fo", "foo", "foob", "\x00\xff\xfe"})
    CHECK(base64url_decode(base64url_encode(text)) == text);
  CHECK_FALSE(base64url_decode("Zg=="));    // padding
  CHECK_FALSE(base64url_decode("Zm9v+/"));  // standard alphabet
  CHECK_FALSE(base64url_decode("Zm9 v"));
  CHECK_FALSE(base64url_decode("Zm9vY"));  // 4n+1 characters encode nothing
  CHECK_FALSE(base64url_decode("Zh"));     // non-zero spare bits: not the canonical "Zg"
}

TEST_CASE("looks_like_jwt tells JWTs from opaque tokens", "[core][jwt]") {
  using core::auth::looks_like_jwt;
  CHECK(looks_like_jwt(k_a1_token));
  CHECK(looks_like_jwt("a.b"));  // refused later, as malformed, by the JWT path
  CHECK_FALSE(looks_like_jwt("mcpd_abcdef"));
  CHECK_FALSE(looks_like_jwt("no-dots-here"));
  CHECK_FALSE(looks_like_jwt("a.b c.d"));
}

TEST_CASE("RFC 7515 A.1: the HS256 example verifies with its JWK key", "[core][jwt][rfc7515]") {
  const auto key = core::base64url_decode(k_a1_key);
  REQUIRE(key);
  // Our HMAC reproduces the RFC's signature byte for byte.
  const auto dot = k_a1_token.rfind('.');
  CHECK(test::b64(test::hs256_signature(*key, k_a1_token.substr(0, dot))) ==
        k_a1_token.substr(dot + 1));

  // Before its exp, the only complaint left is the missing sub: signature and exp passed.
  const auto before = hs256({}, k_rfc_exp - 60, *key);
  const auto result = before.verify(k_a1_token);
  CHECK(result.failure == Refusal::jwt_claims);
  CHECK(result.detail.find("sub") != std::string::npos);
  CHECK(failure_of(before, tampered(k_a1_token)) == Refusal::jwt_signature);
  CHECK(failure_of(hs256({}, k_rfc_exp + 1, *key), k_a1_token) == Refusal::jwt_expired);
  // The same key signs a token with a subject, which then passes completely.
  const auto own =
      test::hs256_jwt({{"iss", "joe"}, {"exp", k_rfc_exp}, {"sub", "joe@example.com"}}, *key);
  CHECK(before.verify(own).ok());
}

TEST_CASE("RFC 7515 A.2: the RS256 example verifies with its JWK public key",
          "[core][jwt][rfc7515]") {
  const std::string pem = pem_from_jwk(k_a2_n, k_a2_e);
  REQUIRE(pem.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  const auto before = rs256(pem, {}, k_rfc_exp - 60);
  const auto result = before.verify(k_a2_token);
  CHECK(result.failure == Refusal::jwt_claims);  // signature fine, sub missing
  CHECK(failure_of(before, tampered(k_a2_token)) == Refusal::jwt_signature);
  CHECK(failure_of(rs256(pem, {}, k_rfc_exp), k_a2_token) == Refusal::jwt_expired);
  // A different payload under the RFC's signature does not verify.
  auto dot1 = k_a2_token.find('.');
  auto dot2 = k_a2_token.rfind('.');
  const std::string swapped =
      k_a2_token.substr(0, dot1 + 1) + test::b64(claims().dump()) + k_a2_token.substr(dot2);
  CHECK(failure_of(rs256(pem), swapped) == Refusal::jwt_signature);
}

TEST_CASE("valid HS256 and RS256 tokens yield their claims", "[core][jwt]") {
  const auto hs = hs256().verify(test::hs256_jwt(claims()));
  REQUIRE(hs.ok());
  CHECK(hs.claims.subject == "ada@example.com");
  CHECK(hs.claims.jti == "jwt-1");
  CHECK(hs.claims.allowed_tools.empty());
  CHECK(hs.claims.expires_at.time_since_epoch().count() == k_now + 600);

  const auto rs = rs256(rsa_key().public_pem).verify(test::rs256_jwt(claims(), rsa_key()));
  REQUIRE(rs.ok());
  const auto identity = core::auth::jwt_identity(rs.claims);
  CHECK(identity.user == "ada@example.com");
  CHECK(identity.token_name == "jwt");
  CHECK(identity.valid);
  CHECK(identity.can_use_tool("anything"));
}

TEST_CASE("alg none, other algs and mismatches are refused", "[core][jwt][alg]") {
  const auto verifier = hs256();
  const std::string payload = test::b64(claims().dump());
  for (const char* none : {"none", "None", "NONE"}) {
    const std::string token = test::b64(json{{"alg", none}}.dump()) + "." + payload + ".";
    CHECK(failure_of(verifier, token) == Refusal::jwt_alg);
  }
  // A "none" token carrying a (valid HS256) signature anyway.
  const auto with_sig = test::hs256_jwt(claims(), test::k_secret, {{"alg", "none"}});
  CHECK(failure_of(verifier, with_sig) == Refusal::jwt_alg);
  CHECK(failure_of(verifier, test::hs256_jwt(claims(), test::k_secret, {{"alg", "HS512"}})) ==
        Refusal::jwt_alg);
  CHECK(failure_of(verifier, test::hs256_jwt(claims(), test::k_secret, {{"alg", "hs256"}})) ==
        Refusal::jwt_alg);
  CHECK(failure_of(verifier, test::hs256_jwt(claims(), test::k_secret, {{"typ", "JWT"}})) ==
        Refusal::jwt_alg);  // no alg at all
  CHECK(failure_of(verifier, test::hs256_jwt(claims(), test::k_secret, {{"alg", 256}})) ==
        Refusal::jwt_alg);

  // An RS256 token at an HS256 verifier and the other way round.
  CHECK(failure_of(verifier, test::rs256_jwt(claims(), rsa_key())) == Refusal::jwt_alg);
  const auto rsa_verifier = rs256(rsa_key().public_pem);
  CHECK(failure_of(rsa_verifier, test::hs256_jwt(claims())) == Refusal::jwt_alg);
}

TEST_CASE("key confusion: HS256 signed with the RSA public key is refused",
          "[core][jwt][alg][security]") {
  const auto verifier = rs256(rsa_key().public_pem);
  // The classic attack: the public key's PEM bytes used as an HMAC secret.
  const auto forged = test::hs256_jwt(claims(), rsa_key().public_pem);
  CHECK(failure_of(verifier, forged) == Refusal::jwt_alg);
  // Claiming RS256 in the header while HMAC-signing does not help either.
  const auto relabelled = test::hs256_jwt(claims(), rsa_key().public_pem, {{"alg", "RS256"}});
  CHECK(failure_of(verifier, relabelled) == Refusal::jwt_signature);
}

TEST_CASE("crit and unknown typ are refused, JWT and at+jwt accepted", "[core][jwt]") {
  const auto verifier = hs256();
  auto with_header = [](json header) { return test::hs256_jwt(claims(), test::k_secret, header); };
  CHECK(failure_of(verifier, with_header({{"alg", "HS256"}, {"crit", {"exp"}}})) ==
        Refusal::jwt_header);
  CHECK(failure_of(verifier, with_header({{"alg", "HS256"}, {"typ", "JOSE"}})) ==
        Refusal::jwt_header);
  CHECK(failure_of(verifier, with_header({{"alg", "HS256"}, {"typ", 1}})) == Refusal::jwt_header);
  for (const char* typ : {"JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"})
    CHECK(verifier.verify(with_header({{"alg", "HS256"}, {"typ", typ}})).ok());
  CHECK(verifier.verify(with_header({{"alg", "HS256"}, {"kid", "k1"}})).ok());
}

TEST_CASE("bad signatures are refused", "[core][jwt]") {
  const auto verifier = hs256();
  const auto token = test::hs256_jwt(claims());
  CHECK(verifier.verify(token).ok());
  CHECK(failure_of(verifier, tampered(token)) == Refusal::jwt_signature);
  CHECK(failure_of(verifier, test::hs256_jwt(claims(), test::k_secret + "x")) ==
        Refusal::jwt_signature);
  CHECK(failure_of(verifier, token.substr(0, token.rfind('.') + 1)) == Refusal::jwt_signature);
  // A truncated signature (a MAC one byte short).
  const auto mac = core::base64url_decode(token.substr(token.rfind('.') + 1));
  REQUIRE(mac);
  CHECK(failure_of(verifier, token.substr(0, token.rfind('.') + 1) +
                                 test::b64(mac->substr(0, mac->size() - 1))) ==
        Refusal::jwt_signature);
  const auto rsa_verifier = rs256(rsa_key().public_pem);
  const auto other = test::RsaKey::generate(2048);
  CHECK(failure_of(rsa_verifier, test::rs256_jwt(claims(), other)) == Refusal::jwt_signature);
  CHECK(failure_of(rsa_verifier, tampered(test::rs256_jwt(claims(), rsa_key()))) ==
        Refusal::jwt_signature);
}

TEST_CASE("exp is required and strict", "[core][jwt][time]") {
  const auto verifier = hs256();
  auto without_exp = claims();
  without_exp.erase("exp");
  CHECK(failure_of(verifier, test::hs256_jwt(without_exp)) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"exp", "1900000000"}}))) ==
        Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"exp", true}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"exp", k_now - 1}}))) ==
        Refusal::jwt_expired);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"exp", k_now}}))) == Refusal::jwt_expired);
  CHECK(verifier.verify(test::hs256_jwt(claims({{"exp", k_now + 1}}))).ok());
  CHECK(verifier.verify(test::hs256_jwt(claims({{"exp", k_now + 0.5}}))).ok());
  CHECK(verifier.verify(test::hs256_jwt(claims({{"exp", 1e300}}))).ok());
}

TEST_CASE("a far exp fits the system clock", "[core][jwt][time]") {
  // Nanoseconds since 1970 end in 2262: a later exp, made a system_clock time point (as the
  // authenticator's cache does), overflowed (found by tests/fuzz/fuzz_jwt_token).
  const auto verifier = hs256();
  for (const double exp : {17672256600.0, 253402300799.0, 1e300}) {
    const auto result = verifier.verify(test::hs256_jwt(claims({{"exp", exp}})));
    REQUIRE(result.ok());
    CHECK(result.claims.expires_at.time_since_epoch().count() <= 9'000'000'000);
    const SystemClock::time_point until = result.claims.expires_at;
    CHECK(until > SystemClock::time_point{std::chrono::seconds{k_now}});
  }
}

TEST_CASE("nbf and iat get 60 seconds of leeway, no more", "[core][jwt][time]") {
  const auto verifier = hs256();
  CHECK(verifier.verify(test::hs256_jwt(claims({{"nbf", k_now + 59}}))).ok());
  CHECK(verifier.verify(test::hs256_jwt(claims({{"nbf", k_now + 60}}))).ok());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"nbf", k_now + 61}}))) ==
        Refusal::jwt_not_yet_valid);
  CHECK(verifier.verify(test::hs256_jwt(claims({{"iat", k_now + 30}}))).ok());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"iat", k_now + 120}}))) ==
        Refusal::jwt_not_yet_valid);
  CHECK(verifier.verify(test::hs256_jwt(claims({{"nbf", k_now - 3600}, {"iat", k_now - 3600}})))
            .ok());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"nbf", "soon"}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"iat", nullptr}}))) == Refusal::jwt_claims);
  // Absent nbf and iat are fine.
  auto bare = claims();
  bare.erase("iat");
  CHECK(verifier.verify(test::hs256_jwt(bare)).ok());
}

TEST_CASE("iss must equal the configured issuer", "[core][jwt]") {
  const auto verifier = hs256({"https://auth.example.com", "", core::auth::k_jwt_leeway});
  CHECK(verifier.verify(test::hs256_jwt(claims({{"iss", "https://auth.example.com"}}))).ok());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"iss", "https://evil.example.com"}}))) ==
        Refusal::jwt_issuer);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"iss", "https://auth.example.com/"}}))) ==
        Refusal::jwt_issuer);
  CHECK(failure_of(verifier, test::hs256_jwt(claims())) == Refusal::jwt_issuer);  // absent
  // Not configured: any issuer passes.
  CHECK(hs256().verify(test::hs256_jwt(claims({{"iss", "anyone"}}))).ok());
}

TEST_CASE("aud, a string or an array, must contain the configured audience", "[core][jwt]") {
  const auto verifier = hs256({"", "https://mcp.example.com", core::auth::k_jwt_leeway});
  CHECK(verifier.verify(test::hs256_jwt(claims({{"aud", "https://mcp.example.com"}}))).ok());
  CHECK(verifier
            .verify(test::hs256_jwt(
                claims({{"aud", {"https://other.example.com", "https://mcp.example.com"}}})))
            .ok());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"aud", "https://other.example.com"}}))) ==
        Refusal::jwt_audience);
  CHECK(failure_of(verifier, test::hs256_jwt(
                                 claims({{"aud", {"https://a.example", "https://b.example"}}}))) ==
        Refusal::jwt_audience);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"aud", json::array()}}))) ==
        Refusal::jwt_audience);
  CHECK(failure_of(verifier, test::hs256_jwt(claims())) == Refusal::jwt_audience);  // absent
}

TEST_CASE("sub is required, jti must be a string", "[core][jwt]") {
  const auto verifier = hs256();
  auto without_sub = claims();
  without_sub.erase("sub");
  CHECK(failure_of(verifier, test::hs256_jwt(without_sub)) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"sub", ""}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"sub", 42}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"sub", "a\nb"}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"jti", 7}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"jti", std::string(300, 'j')}}))) ==
        Refusal::jwt_claims);
  auto without_jti = claims();
  without_jti.erase("jti");
  const auto result = verifier.verify(test::hs256_jwt(without_jti));
  REQUIRE(result.ok());
  CHECK_FALSE(result.claims.jti);
}

TEST_CASE("a tools claim limits tools like a token allow-list", "[core][jwt][tools]") {
  const auto verifier = hs256();
  const auto limited = verifier.verify(test::hs256_jwt(claims({{"tools", {"echo", "add"}}})));
  REQUIRE(limited.ok());
  CHECK(limited.claims.allowed_tools == std::vector<std::string>{"echo", "add"});
  const auto identity = core::auth::jwt_identity(limited.claims);
  CHECK(identity.can_use_tool("echo"));
  CHECK(identity.can_use_tool("add"));
  CHECK_FALSE(identity.can_use_tool("delete_everything"));

  // An empty list would mean "all tools": refused rather than read that way.
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"tools", json::array()}}))) ==
        Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"tools", "echo"}}))) == Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"tools", {"echo", 3}}}))) ==
        Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"tools", {"no spaces"}}}))) ==
        Refusal::jwt_claims);

  // scope entries tools:<name> when there is no tools claim; other scopes leave all tools.
  const auto scoped =
      verifier.verify(test::hs256_jwt(claims({{"scope", "openid tools:echo tools:add"}})));
  REQUIRE(scoped.ok());
  CHECK(scoped.claims.allowed_tools == std::vector<std::string>{"echo", "add"});
  const auto plain = verifier.verify(test::hs256_jwt(claims({{"scope", "openid profile"}})));
  REQUIRE(plain.ok());
  CHECK(plain.claims.allowed_tools.empty());
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"scope", "tools:"}}))) ==
        Refusal::jwt_claims);
  CHECK(failure_of(verifier, test::hs256_jwt(claims({{"scope", {"tools:echo"}}}))) ==
        Refusal::jwt_claims);
  // tools wins over scope.
  const auto both =
      verifier.verify(test::hs256_jwt(claims({{"tools", {"add"}}, {"scope", "tools:echo"}})));
  REQUIRE(both.ok());
  CHECK(both.claims.allowed_tools == std::vector<std::string>{"add"});
}

TEST_CASE("malformed tokens are refused before any signature check", "[core][jwt][malformed]") {
  const auto verifier = hs256();
  const auto token = test::hs256_jwt(claims());
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string header = token.substr(0, dot1);
  const std::string payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string signature = token.substr(dot2 + 1);

  CHECK(failure_of(verifier, header + "." + payload) == Refusal::jwt_malformed);   // 2 segments
  CHECK(failure_of(verifier, token + "." + signature) == Refusal::jwt_malformed);  // 4 segments
  CHECK(failure_of(verifier, token + ".") == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, "a.b.c.d.e") == Refusal::jwt_malformed);  // JWE shape
  CHECK(failure_of(verifier, "..") == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, "." + payload + "." + signature) == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, header + "==." + payload + "." + signature) == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, header + "." + payload + "." + signature + "=") ==
        Refusal::jwt_malformed);
  CHECK(failure_of(verifier, header + "." + payload + "+." + signature) == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, header + "." + payload + "." + signature.substr(0, 5) + "/" +
                                 signature.substr(6)) == Refusal::jwt_malformed);
  // Header that is JSON but not an object, or not JSON at all.
  auto signed_with = [&](const std::string& h, const std::string& p) {
    const std::string input = test::b64(h) + "." + test::b64(p);
    return input + "." + test::b64(test::hs256_signature(test::k_secret, input));
  };
  CHECK(failure_of(verifier, signed_with(R"(["HS256"])", claims().dump())) ==
        Refusal::jwt_malformed);
  CHECK(failure_of(verifier, signed_with(R"({"alg":"HS256")", claims().dump())) ==
        Refusal::jwt_malformed);
  // A correctly signed payload that is not a JSON object.
  CHECK(failure_of(verifier, signed_with(R"({"alg":"HS256"})", R"("just a string")")) ==
        Refusal::jwt_malformed);
  CHECK(failure_of(verifier, signed_with(R"({"alg":"HS256"})", "not json")) ==
        Refusal::jwt_malformed);
  // Oversized.
  const auto huge = test::hs256_jwt(claims({{"pad", std::string(9000, 'x')}}));
  CHECK(failure_of(verifier, huge) == Refusal::jwt_malformed);
  CHECK(failure_of(verifier, "") == Refusal::jwt_malformed);
}

TEST_CASE("unusable keys stop startup", "[core][jwt][keys]") {
  CHECK_THROWS_AS(JwtVerifier({"HS256", std::string(31, 's'), ""}, {}), Error);
  CHECK_NOTHROW(JwtVerifier({"HS256", std::string(32, 's'), ""}, {}));
  CHECK_THROWS_AS(JwtVerifier({"RS256", "", "not a pem"}, {}), Error);
  CHECK_THROWS_AS(JwtVerifier({"RS256", "", ""}, {}), Error);
  CHECK_THROWS_AS(JwtVerifier({"ES256", test::k_secret, ""}, {}), Error);
  CHECK_THROWS_AS(JwtVerifier({"none", test::k_secret, ""}, {}), Error);
  const auto small = test::RsaKey::generate(1024);
  try {
    JwtVerifier({"RS256", "", small.public_pem}, {});
    FAIL("a 1024-bit RSA key was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("2048") != std::string::npos);
  }
  // An EC public key is not an RSA key.
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  REQUIRE(ec);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, ec);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string ec_pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  CHECK_THROWS_AS(JwtVerifier({"RS256", "", ec_pem}, {}), Error);
}

TEST_CASE("failure labels are stable", "[core][jwt]") {
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_malformed)) == "jwt_malformed");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_alg)) == "jwt_alg");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_header)) == "jwt_header");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_signature)) == "jwt_signature");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_expired)) == "jwt_expired");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_not_yet_valid)) == "jwt_not_yet_valid");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_issuer)) == "jwt_issuer");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_audience)) == "jwt_audience");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_claims)) == "jwt_claims");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_revoked)) == "jwt_revoked");
  CHECK(std::string(core::auth::reason_label(Refusal::jwt_disabled)) == "jwt_disabled");
}
