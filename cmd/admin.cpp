#include "cmd/admin.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/config/config.hpp"
#include "core/config/error.hpp"

namespace mcpd::cmd::admin {

void add_store_options(CLI::App& sub, StoreOptions& options) {
  sub.add_option("--database", options.database,
                 "Database URL: sqlite:///path/mcpd.db or postgresql://user:pass@host:port/db "
                 "(else MCPD_DATABASE_URL, DATABASE_URL, the config file, the default)")
      ->type_name("URL");
  sub.add_option("--config", options.config,
                 "Config file (else MCPD_CONFIG); its \"database\" is used here")
      ->type_name("FILE");
}

core::Settings load_settings(const StoreOptions& options, const core::Environment& env) {
  core::SettingsFlags flags;
  if (!options.config.empty()) flags.config = options.config;
  if (!options.database.empty()) flags.database = options.database;
  return settings_from(flags, env, false);
}

std::unique_ptr<storage::TokenStore> open_store(const StoreOptions& options,
                                                const core::Environment& env) {
  return cmd::open_store(load_settings(options, env));
}

void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
  // NO_COLOR is the terminal's convention (no-color.org), not a setting: read where used.
  const bool bold = ::isatty(STDOUT_FILENO) == 1 && !std::getenv("NO_COLOR");
  auto print_row = [&](const Row& row, bool is_header) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    if (is_header && bold) line = "\x1b[1m" + line + "\x1b[0m";
    out << line << '\n';
  };
  print_row(header, true);
  for (const auto& row : rows) print_row(row, false);
}

nlohmann::ordered_json time_or_null(const std::optional<storage::Time>& t) {
  if (!t) return nullptr;
  return core::auth::to_iso8601(*t);
}

std::string time_or(const std::optional<storage::Time>& t, const std::string& fallback) {
  return t ? core::auth::to_iso8601(*t) : fallback;
}

nlohmann::ordered_json user_json(const storage::User& user) {
  return {{"email", user.email},
          {"name", user.name},
          {"is_active", user.is_active},
          {"created_at", core::auth::to_iso8601(user.created_at)}};
}

nlohmann::ordered_json token_json(const storage::Token& token) {
  return {{"id", token.id},
          {"name", token.name},
          {"user", token.user_email},
          {"masked_token", token.masked()},
          {"is_active", token.is_active},
          {"allowed_tools", token.allowed_tools},
          {"expires_at", time_or_null(token.expires_at)},
          {"last_used_at", time_or_null(token.last_used_at)},
          {"created_at", core::auth::to_iso8601(token.created_at)}};
}

}  // namespace mcpd::cmd::admin
