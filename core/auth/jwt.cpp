#include "core/auth/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/auth/token.hpp"
#include "core/config/config.hpp"
#include "core/config/error.hpp"

namespace mcpd::core::auth {
namespace {

using json = nlohmann::json;

constexpr std::size_t k_min_secret_bytes = 32;
constexpr int k_min_rsa_bits = 2048;
constexpr std::size_t k_max_subject_length = 256;
constexpr std::size_t k_max_jti_length = 256;
// exp beyond this is treated as this (2200-01-01): keeps the conversion to seconds defined,
// and that of expires_at to system_clock's nanoseconds too (they end in 2262; the
// authenticator caches a JWT until its expiry).
constexpr double k_max_time = 7258118400.0;

JwtResult refuse(Refusal failure, std::string detail) {
  JwtResult result;
  result.failure = failure;
  result.detail = std::move(detail);
  return result;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Parses a decoded segment; nullopt unless it is a JSON object.
std::optional<json> json_object(const std::string& text) {
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

bool is_numeric(const json& value) {
  return value.is_number();  // bool is not a number in nlohmann
}

bool printable(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::shared_ptr<EVP_PKEY> load_rsa_public_key(const std::string& pem) {
  EVP_PKEY* key = nullptr;
  // "PEM" input of any structure (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY"), RSA only.
  OSSL_DECODER_CTX* decoder = OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, "RSA",
                                                            EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (!decoder) throw Error("auth.jwt.public_key_file: OpenSSL has no PEM decoder for RSA keys");
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t length = pem.size();
  const bool decoded = OSSL_DECODER_from_data(decoder, &data, &length) == 1;
  OSSL_DECODER_CTX_free(decoder);
  std::shared_ptr<EVP_PKEY> owned(key, PkeyDeleter{});
  if (!decoded || !key || !EVP_PKEY_is_a(key, "RSA"))
    throw Error("auth.jwt.public_key_file: not a PEM RSA public key");
  if (EVP_PKEY_get_bits(key) < k_min_rsa_bits)
    throw Error("auth.jwt.public_key_file: RSA key has " + std::to_string(EVP_PKEY_get_bits(key)) +
                " bits; at least 2048 are required");
  return owned;
}

std::string read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("auth.jwt.public_key_file: cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `tools` (array of names), else `scope` entries "tools:<name>". nullopt = refused.
std::optional<std::vector<std::string>> tool_allow_list(const json& payload, std::string& detail) {
  std::vector<std::string> tools;
  if (const auto it = payload.find("tools"); it != payload.end()) {
    if (!it->is_array() || it->empty()) {
      // An empty list would read as "all tools"; a token meant to grant nothing must not.
      detail = "tools claim must be a non-empty array of tool names";
      return std::nullopt;
    }
    for (const auto& tool : *it) {
      if (!tool.is_string() || check_tool_name(tool.get<std::string>())) {
        detail = "tools claim holds something that is not a tool name";
        return std::nullopt;
      }
      tools.push_back(tool.get<std::string>());
    }
    return tools;
  }
  if (const auto it = payload.find("scope"); it != payload.end()) {
    if (!it->is_string()) {
      detail = "scope claim must be a string";
      return std::nullopt;
    }
    std::istringstream words(it->get<std::string>());
    for (std::string word; words >> word;) {
      if (word.rfind("tools:", 0) != 0) continue;
      const std::string tool = word.substr(6);
      if (check_tool_name(tool)) {
        detail = "scope entry '" + word.substr(0, 64) + "' does not name a tool";
        return std::nullopt;
      }
      tools.push_back(tool);
    }
  }
  return tools;
}

}  // namespace

bool looks_like_jwt(std::string_view credential) {
  if (credential.find('.') == std::string_view::npos) return false;
  return std::all_of(credential.begin(), credential.end(),
                     [](char c) { return c == '.' || is_base64url_char(c); });
}

JwtVerifier::JwtVerifier(const JwtKey& key, JwtExpectations expectations, Clock clock)
    : m_algorithm(key.algorithm), m_expect(std::move(expectations)), m_clock(std::move(clock)) {
  if (m_algorithm == "HS256") {
    if (key.secret.size() < k_min_secret_bytes)
      throw Error("auth.jwt: the HS256 secret must be at least 32 bytes");
    m_secret = key.secret;
  } else if (m_algorithm == "RS256") {
    m_public_key = load_rsa_public_key(key.public_key_pem);
  } else {
    throw Error("auth.jwt.algorithm: expected \"HS256\" or \"RS256\", got '" + m_algorithm + "'");
  }
}

JwtVerifier JwtVerifier::from_settings(const JwtSettings& settings) {
  JwtKey key;
  key.algorithm = settings.algorithm;
  key.secret = settings.secret;
  if (settings.algorithm == "RS256") key.public_key_pem = read_key_file(settings.public_key_file);
  JwtExpectations expect;
  expect.issuer = settings.issuer;
  expect.audience = settings.audience;
  return JwtVerifier(key, std::move(expect));
}

JwtResult JwtVerifier::verify(std::string_view token) const {
  if (token.size() > k_jwt_max_length) return refuse(Refusal::jwt_malformed, "longer than 8 KiB");
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return refuse(Refusal::jwt_malformed, "not three dot-separated segments");
  const auto header_text = base64url_decode(token.substr(0, first));
  const auto payload_text = base64url_decode(token.substr(first + 1, second - first - 1));
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature)
    return refuse(Refusal::jwt_malformed, "a segment is not unpadded base64url");
  if (header_text->empty() || payload_text->empty())
    return refuse(Refusal::jwt_malformed, "empty header or payload");

  const auto header = json_object(*header_text);
  if (!header) return refuse(Refusal::jwt_malformed, "header is not a JSON object");
  if (auto refused = check_header(*header); !refused.ok()) return refused;

  if (signature->empty()) return refuse(Refusal::jwt_signature, "no signature");
  if (!signature_ok(token.substr(0, second), *signature))
    return refuse(Refusal::jwt_signature, "signature does not verify");

  auto payload = json_object(*payload_text);
  if (!payload) return refuse(Refusal::jwt_malformed, "payload is not a JSON object");
  return check_claims(std::move(*payload));
}

JwtResult JwtVerifier::check_header(const json& header) const {
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string())
    return refuse(Refusal::jwt_alg, "header has no alg");
  if (alg->get<std::string>() != m_algorithm)
    return refuse(Refusal::jwt_alg, "alg is not " + m_algorithm);
  // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
  if (header.contains("crit")) return refuse(Refusal::jwt_header, "crit is not supported");
  if (const auto typ = header.find("typ"); typ != header.end()) {
    std::string value = typ->is_string() ? typ->get<std::string>() : std::string();
    if (value.size() > 12 && iequals(value.substr(0, 12), "application/")) value.erase(0, 12);
    if (!iequals(value, "JWT") && !iequals(value, "at+jwt"))
      return refuse(Refusal::jwt_header, "typ is neither JWT nor at+jwt");
  }
  return {};
}

bool JwtVerifier::signature_ok(std::string_view signed_part, std::string_view signature) const {
  const auto* data = reinterpret_cast<const unsigned char*>(signed_part.data());
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  if (m_algorithm == "HS256") {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_length = 0;
    if (!HMAC(EVP_sha256(), m_secret.data(), static_cast<int>(m_secret.size()), data,
              signed_part.size(), mac.data(), &mac_length))
      return false;
    return signature.size() == mac_length && CRYPTO_memcmp(mac.data(), sig, mac_length) == 0;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return false;
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, m_public_key.get()) == 1 &&
      EVP_DigestVerify(ctx, sig, signature.size(), data, signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

JwtResult JwtVerifier::check_claims(json payload) const {
  const double now = std::chrono::duration<double>(m_clock().time_since_epoch()).count();
  const double leeway = static_cast<double>(m_expect.leeway.count());

  const auto exp = payload.find("exp");
  if (exp == payload.end() || !is_numeric(*exp))
    return refuse(Refusal::jwt_claims, "exp is missing or not a number");
  const double expires = exp->get<double>();
  if (!(expires > now)) return refuse(Refusal::jwt_expired, "exp has passed");
  for (const char* name : {"nbf", "iat"}) {
    const auto it = payload.find(name);
    if (it == payload.end()) continue;
    if (!is_numeric(*it))
      return refuse(Refusal::jwt_claims, std::string(name) + " is not a number");
    if (it->get<double>() > now + leeway)
      return refuse(Refusal::jwt_not_yet_valid, std::string(name) + " is in the future");
  }

  if (!m_expect.issuer.empty()) {
    const auto iss = payload.find("iss");
    if (iss == payload.end() || !iss->is_string() || iss->get<std::string>() != m_expect.issuer)
      return refuse(Refusal::jwt_issuer, "iss is not the configured issuer");
  }
  if (!m_expect.audience.empty()) {
    const auto aud = payload.find("aud");
    bool found = false;
    if (aud != payload.end() && aud->is_string())
      found = aud->get<std::string>() == m_expect.audience;
    if (aud != payload.end() && aud->is_array())
      found = std::any_of(aud->begin(), aud->end(), [this](const json& item) {
        return item.is_string() && item.get<std::string>() == m_expect.audience;
      });
    if (!found) return refuse(Refusal::jwt_audience, "aud does not name the configured audience");
  }

  const auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get<std::string>().empty() ||
      sub->get<std::string>().size() > k_max_subject_length || !printable(sub->get<std::string>()))
    return refuse(Refusal::jwt_claims, "sub is missing or not a usable string");

  JwtResult result;
  if (const auto jti = payload.find("jti"); jti != payload.end()) {
    if (!jti->is_string() || jti->get<std::string>().empty() ||
        jti->get<std::string>().size() > k_max_jti_length)
      return refuse(Refusal::jwt_claims, "jti is not a string of 1-256 characters");
    result.claims.jti = jti->get<std::string>();
  }
  std::string detail;
  auto tools = tool_allow_list(payload, detail);
  if (!tools) return refuse(Refusal::jwt_claims, detail);

  result.claims.subject = sub->get<std::string>();
  result.claims.allowed_tools = std::move(*tools);
  result.claims.expires_at = Time{
      std::chrono::seconds{static_cast<std::int64_t>(std::floor(std::min(expires, k_max_time)))}};
  result.claims.payload = std::move(payload);
  return result;
}

Identity jwt_identity(const JwtClaims& claims) {
  Identity identity;
  identity.user = claims.subject;
  identity.token_name = "jwt";
  identity.allowed_tools = claims.allowed_tools;
  return identity;
}

}  // namespace mcpd::core::auth
