#include "core/auth/token.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

namespace mcpd::core::auth {
namespace {

constexpr std::string_view k_base62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::uint32_t crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// CRC32 fits in 6 base62 digits (62^6 > 2^32); fixed width so every token has one length.
std::string checksum_of(std::string_view body) {
  std::uint64_t value = crc32(body);
  std::string out(k_token_checksum_length, '0');
  for (std::size_t i = k_token_checksum_length; i-- > 0;) {
    out[i] = k_base62[value % 62];
    value /= 62;
  }
  return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(k_hex[data[i] >> 4]);
    out.push_back(k_hex[data[i] & 0x0F]);
  }
  return out;
}

}  // namespace

std::string generate_token() {
  std::string body;
  body.reserve(k_token_body_length);
  std::array<unsigned char, 64> random{};
  while (body.size() < k_token_body_length) {
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
      throw std::runtime_error("the system random number generator failed");
    // Rejection sampling: 248 = 4 * 62, so every accepted byte maps uniformly onto base62.
    for (unsigned char byte : random) {
      if (byte >= 248) continue;
      body.push_back(k_base62[byte % 62]);
      if (body.size() == k_token_body_length) break;
    }
  }
  std::string token{k_token_prefix};
  token += body;
  token += checksum_of(body);
  return token;
}

std::optional<ParsedToken> parse_token(std::string_view token) {
  if (token.size() != k_token_length || token.substr(0, k_token_prefix.size()) != k_token_prefix)
    return std::nullopt;
  const auto rest = token.substr(k_token_prefix.size());
  if (!std::all_of(rest.begin(), rest.end(), is_base62)) return std::nullopt;
  ParsedToken parsed{rest.substr(0, k_token_body_length), rest.substr(k_token_body_length)};
  if (checksum_of(parsed.body) != parsed.checksum) return std::nullopt;
  return parsed;
}

std::string masked_token(std::string_view last8) {
  return "****" + std::string{last8};
}

std::string last8_of(std::string_view token) {
  return std::string{token.size() > 8 ? token.substr(token.size() - 8) : token};
}

bool can_use_tool(const std::vector<std::string>& allowed_tools, std::string_view tool) {
  return allowed_tools.empty() ||
         std::find(allowed_tools.begin(), allowed_tools.end(), tool) != allowed_tools.end();
}

TokenHasher::TokenHasher(std::string pepper) : m_pepper(std::move(pepper)) {}

std::string TokenHasher::hash(std::string_view token) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(token.data());
  bool ok = false;
  if (m_pepper.empty()) {
    ok = EVP_Digest(data, token.size(), digest, &length, EVP_sha256(), nullptr) == 1;
  } else {
    ok = HMAC(EVP_sha256(), m_pepper.data(), static_cast<int>(m_pepper.size()), data, token.size(),
              digest, &length) != nullptr;
  }
  if (!ok) throw std::runtime_error("SHA-256 failed");
  return to_hex(digest, length);
}

}  // namespace mcpd::core::auth
