#pragma once
// Column encodings shared by the backends (internal to storage).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/records.hpp"

namespace mcpd::storage::codec {

inline std::int64_t to_db(core::auth::Time t) {
  return t.time_since_epoch().count();
}
inline core::auth::Time from_db(std::int64_t seconds) {
  return core::auth::Time{std::chrono::seconds{seconds}};
}
inline std::optional<std::int64_t> to_db(const std::optional<core::auth::Time>& t) {
  if (!t) return std::nullopt;
  return to_db(*t);
}

std::string encode_tools(const std::vector<std::string>& tools);
// Throws std::runtime_error on anything but a JSON array of strings: a damaged allow-list must
// never read as "empty = every tool".
std::vector<std::string> decode_tools(const std::string& text);

}  // namespace mcpd::storage::codec
