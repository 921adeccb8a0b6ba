#pragma once
// Opaque bearer tokens: how they look, how they are made, how they are stored.
//
//   mcpd_<43 base62 chars: 256 bits from the CSPRNG><6 base62 chars: CRC32 of the body>
//
// The prefix makes them recognisable to secret scanners; the checksum lets us refuse typos and
// garbage before any storage lookup. Only a hash is ever stored: SHA-256 of the whole token, or
// HMAC-SHA-256 keyed with a pepper kept outside the database (MCPD_TOKEN_PEPPER).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::core::auth {

inline constexpr std::string_view k_token_prefix = "mcpd_";
inline constexpr std::size_t k_token_body_length = 43;  // 43 * log2(62) = 256.03 bits
inline constexpr std::size_t k_token_checksum_length = 6;
inline constexpr std::size_t k_token_length =
    k_token_prefix.size() + k_token_body_length + k_token_checksum_length;

// A fresh token from OpenSSL's CSPRNG. Throws std::runtime_error if the CSPRNG fails.
std::string generate_token();

struct ParsedToken {
  std::string_view body;
  std::string_view checksum;
};

// Checks prefix, length, alphabet and checksum. nullopt = malformed.
std::optional<ParsedToken> parse_token(std::string_view token);

// Display form for lists and logs: "****" + the last 8 characters.
std::string masked_token(std::string_view last8);
std::string last8_of(std::string_view token);

// Empty allow-list = every tool (the seed's can_use_tool).
bool can_use_tool(const std::vector<std::string>& allowed_tools, std::string_view tool);

// Hashes token strings for storage and lookup. Changing or adding the pepper invalidates
// every existing token (their stored hashes no longer match).
class TokenHasher {
 public:
  TokenHasher() = default;                   // plain SHA-256
  explicit TokenHasher(std::string pepper);  // HMAC-SHA-256 when pepper is not empty
  // The pepper is a setting (Settings::token_pepper: MCPD_TOKEN_PEPPER, MCPD_TOKEN_PEPPER_FILE).

  // 64 lowercase hex characters.
  std::string hash(std::string_view token) const;
  bool peppered() const noexcept { return !m_pepper.empty(); }

 private:
  std::string m_pepper;
};

}  // namespace mcpd::core::auth
