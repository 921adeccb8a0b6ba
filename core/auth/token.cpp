#include "core/auth/token.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/util/crypto.hpp"

namespace mcpd::core::auth {
namespace {

constexpr std::string_view k_base62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_base62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// CRC-32 (IEEE, reflected), a byte at a time from a table built at compile time: every
// authenticated request checks its token's checksum before anything else.
constexpr std::array<std::uint32_t, 256> k_crc32_table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    table[i] = crc;
  }
  return table;
}();

std::uint32_t crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) crc = (crc >> 8) ^ k_crc32_table[(crc ^ byte) & 0xFFu];
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

}  // namespace

std::string generate_token() {
  std::string body;
  body.reserve(k_token_body_length);
  while (body.size() < k_token_body_length) {
    const std::string random = random_bytes(64);
    // Rejection sampling: 248 = 4 * 62, so every accepted byte maps uniformly onto base62.
    for (const char c : random) {
      const auto byte = static_cast<unsigned char>(c);
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
  return m_pepper.empty() ? sha256_hex(token) : hmac_sha256_hex(m_pepper, token);
}

}  // namespace mcpd::core::auth
