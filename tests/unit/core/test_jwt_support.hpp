#pragma once
// Makes JWTs for the tests with OpenSSL: HS256 with a shared secret, RS256 with an RSA key
// generated at test time. Header-only; shared by the verifier and the authenticator tests.

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/auth/jwt.hpp"

namespace mcpd::test {

using json = nlohmann::json;

inline const std::string k_secret = "a-test-secret-that-is-long-enough-for-hs256!";

inline std::string b64(std::string_view bytes) {
  return core::base64url_encode(bytes);
}

inline std::string hs256_signature(std::string_view secret, std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &length);
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

struct RsaKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string public_pem;

  static RsaKey generate(unsigned bits = 2048) {
    EVP_PKEY* raw = EVP_RSA_gen(bits);
    if (!raw) throw std::runtime_error("RSA key generation failed");
    RsaKey out;
    out.key.reset(raw, EVP_PKEY_free);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, raw);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    out.public_pem.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return out;
  }

  std::string sign(std::string_view input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t length = 0;
    std::string signature;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
        EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1) {
      signature.resize(length);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size());
      signature.resize(length);
    }
    EVP_MD_CTX_free(ctx);
    if (signature.empty()) throw std::runtime_error("RSA signing failed");
    return signature;
  }
};

// header.payload signed over its own first two segments.
template <class Signer>
std::string make_jwt(const json& header, const json& payload, Signer&& sign) {
  const std::string input = b64(header.dump()) + "." + b64(payload.dump());
  return input + "." + b64(sign(input));
}

inline std::string hs256_jwt(const json& payload, const std::string& secret = k_secret,
                             json header = {{"alg", "HS256"}, {"typ", "JWT"}}) {
  return make_jwt(header, payload,
                  [&](std::string_view input) { return hs256_signature(secret, input); });
}

inline std::string rs256_jwt(const json& payload, const RsaKey& key,
                             json header = {{"alg", "RS256"}, {"typ", "JWT"}}) {
  return make_jwt(header, payload, [&](std::string_view input) { return key.sign(input); });
}

}  // namespace mcpd::test
