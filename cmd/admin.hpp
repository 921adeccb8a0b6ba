#pragma once
// What `mcpd token` and `mcpd user` share: their settings (--database/--config over the
// environment), the store they name, and printing tables and JSON.

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cmd/settings.hpp"
#include "storage/token_store.hpp"

namespace mcpd::cmd::admin {

struct StoreOptions {
  std::string database;  // --database URL
  std::string config;    // --config FILE (else MCPD_CONFIG)
};

void add_store_options(CLI::App& sub, StoreOptions& options);

// The settings of an admin command: the database (--database > MCPD_DATABASE_URL >
// DATABASE_URL > the config file > the default) and the token pepper. Credentials the
// server needs (JWT secret, upstream keys) are not resolved. Throws mcpd::Error.
core::Settings load_settings(const StoreOptions& options, const core::Environment& env);

// load_settings, then cmd::open_store.
std::unique_ptr<storage::TokenStore> open_store(const StoreOptions& options,
                                                const core::Environment& env);

using cmd::take;

using Row = std::vector<std::string>;
// Aligned columns; the header is bold only on a terminal (and without NO_COLOR).
void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows);

nlohmann::ordered_json time_or_null(const std::optional<storage::Time>& t);
std::string time_or(const std::optional<storage::Time>& t, const std::string& fallback);

nlohmann::ordered_json user_json(const storage::User& user);
nlohmann::ordered_json token_json(const storage::Token& token);  // masked, never the plaintext

}  // namespace mcpd::cmd::admin
