#pragma once
// Versioned schema migrations, one entry per version with the SQL of each dialect side by side
// so the two backends keep the same schema. Applied in order, each in the transaction that
// records it in schema_version; never edit a released entry, append a new one.
//
// Times are INTEGER/BIGINT seconds since the Unix epoch (UTC); allowed_tools is a JSON array.

#include <span>
#include <string_view>

namespace mcpd::storage {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sqlite;
  std::string_view postgresql;
};

std::span<const Migration> migrations();
int latest_schema_version();

inline constexpr std::string_view k_schema_version_table_sqlite =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";
inline constexpr std::string_view k_schema_version_table_postgresql =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";

}  // namespace mcpd::storage
