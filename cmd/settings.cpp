#include "cmd/settings.hpp"

#include "core/config/error.hpp"

namespace mcpd::cmd {

core::Settings settings_from(const core::SettingsFlags& flags, const core::Environment& env,
                             bool credentials) {
  core::SettingsOptions options;
  options.database_schemes = storage::supported_schemes();
  options.resolve_credentials = credentials;
  return core::load_settings(flags, env, options);
}

std::unique_ptr<storage::TokenStore> open_store(const core::Settings& settings) {
  return take(storage::open_store(settings));
}

void throw_store_error(const storage::StoreError& error) {
  if (error.failure == storage::Failure::unavailable)
    throw mcpd::Error("database unreachable: " + error.message, k_exit_storage);
  throw mcpd::Error(error.message, k_exit_failure);
}

}  // namespace mcpd::cmd
