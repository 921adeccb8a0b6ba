#pragma once
// What every subcommand shares on its way from the command line to work: the settings, made
// from the one environment snapshot main took (core::load_settings with the database schemes
// storage knows), and the one way to open the store they name.

#include <memory>

#include "core/config/config.hpp"
#include "storage/token_store.hpp"

namespace mcpd::cmd {

// Credentials (JWT secret, upstream API keys, state key) are resolved unless `credentials` is
// false (commands that only need the database and the token pepper). Throws mcpd::Error.
core::Settings settings_from(const core::SettingsFlags& flags, const core::Environment& env,
                             bool credentials = true);

// Opens (and migrates) the store the settings name. Throws mcpd::Error: exit 3 when the
// database is unreachable, 1 otherwise (bad URL, no database known).
std::unique_ptr<storage::TokenStore> open_store(const core::Settings& settings);

// Throws the mcpd::Error for a storage failure (unavailable -> exit 3, else exit 1).
[[noreturn]] void throw_store_error(const storage::StoreError& error);

template <class T>
T take(storage::Result<T> result) {
  if (!result) throw_store_error(result.error());
  return std::move(result).value();
}

}  // namespace mcpd::cmd
