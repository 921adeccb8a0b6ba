#pragma once
// What `mcpd token` and `mcpd user` share: opening the store from --database/--config and the
// environment, mapping storage failures to exit codes, and printing tables and JSON.

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "storage/token_store.hpp"

namespace mcpd::cmd::admin {

struct StoreOptions {
  std::string database;  // --database URL
  std::string config;    // --config FILE (else MCPD_CONFIG)
};

void add_store_options(CLI::App& sub, StoreOptions& options);

// Resolves the URL (flag > MCPD_DATABASE_URL > DATABASE_URL > config > default) and opens it.
// Throws mcpd::Error: exit 3 when the database is unreachable, 1 for a bad URL.
std::unique_ptr<storage::TokenStore> open_store(const StoreOptions& options);

// Throws the mcpd::Error for a storage failure (unavailable -> exit 3, else exit 1).
[[noreturn]] void throw_store_error(const storage::StoreError& error);

template <class T>
T take(storage::Result<T> result) {
  if (!result) throw_store_error(result.error());
  return std::move(result).value();
}

using Row = std::vector<std::string>;
// Aligned columns; the header is bold only on a terminal (and without NO_COLOR).
void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows);

nlohmann::ordered_json time_or_null(const std::optional<storage::Time>& t);
std::string time_or(const std::optional<storage::Time>& t, const std::string& fallback);

nlohmann::ordered_json user_json(const storage::User& user);
nlohmann::ordered_json token_json(const storage::Token& token);  // masked, never the plaintext

}  // namespace mcpd::cmd::admin
