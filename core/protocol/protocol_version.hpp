#pragma once
// The protocol revisions mcpd speaks. Two eras share one dispatcher:
// - modern (2026-07-28 and later): stateless; every request names its revision and the
//   client's capabilities in params._meta, and is served on its own;
// - legacy (2025-11-25 and earlier): negotiated once by initialize, for a stdio process or
//   an HTTP session.
// Revisions are "YYYY-MM-DD" strings, so they order like the dates they are.

#include <string>
#include <string_view>
#include <vector>

namespace mcpd::core {

// Newest first.
inline const std::vector<std::string>& modern_protocol_versions() {
  static const std::vector<std::string> versions{"2026-07-28"};
  return versions;
}

// Newest first; the first is what initialize offers a client asking for a version we lack.
inline const std::vector<std::string>& legacy_protocol_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18", "2025-03-26",
                                                 "2024-11-05"};
  return versions;
}

// Every version, modern first.
inline const std::vector<std::string>& all_protocol_versions() {
  static const std::vector<std::string> versions = [] {
    std::vector<std::string> all = modern_protocol_versions();
    const auto& legacy = legacy_protocol_versions();
    all.insert(all.end(), legacy.begin(), legacy.end());
    return all;
  }();
  return versions;
}

// The first modern revision: anything at or after it is served per request.
inline constexpr std::string_view k_first_modern_version = "2026-07-28";

// True for a revision of the modern era, whether we speak it or not (a client naming a later
// revision is a modern client asking for a version we lack).
inline bool is_modern_version(std::string_view version) {
  return version.size() == 10 && version >= k_first_modern_version;
}

inline bool is_supported_modern_version(std::string_view version) {
  for (const auto& v : modern_protocol_versions())
    if (v == version) return true;
  return false;
}

}  // namespace mcpd::core
