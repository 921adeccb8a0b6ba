#pragma once
// The few cryptographic building blocks shared by tokens, JWTs and sealed request state:
// SHA-256 and HMAC-SHA-256 (OpenSSL), constant-time comparison, unpadded base64url.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::core {

// 64 lowercase hex characters. Throw std::runtime_error if OpenSSL fails.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Equal contents, compared in time that depends only on the sizes.
bool equal_constant_time(std::string_view a, std::string_view b) noexcept;

// `count` bytes from the system's cryptographic random generator; throws std::runtime_error.
std::string random_bytes(std::size_t count);

// Unpadded base64url (RFC 7515 §2). decode refuses padding, other alphabets and impossible
// or non-canonical lengths.
bool is_base64url_char(char c) noexcept;
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace mcpd::core
