#include "cmd/admin.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/config/config.hpp"
#include "core/config/error.hpp"
#include "storage/database_url.hpp"

namespace mcpd::cmd::admin {

void add_store_options(CLI::App& sub, StoreOptions& options) {
  sub.add_option("--database", options.database,
                 "Database URL: sqlite:///path/mcpd.db or postgresql://user:pass@host:port/db "
                 "(else MCPD_DATABASE_URL, DATABASE_URL, the config file, the default)")
      ->type_name("URL");
  sub.add_option("--config", options.config,
                 "Config file (else MCPD_CONFIG); only its \"database\" is used here")
      ->type_name("FILE");
}

namespace {

std::optional<std::string> configured_database(const StoreOptions& options) {
  std::string file = options.config;
  if (file.empty()) {
    if (const char* env = std::getenv("MCPD_CONFIG"); env && *env) file = env;
  }
  if (file.empty()) return std::nullopt;
  core::Settings settings;
  core::apply_config_file(settings, file);  // throws mcpd::Error naming the setting
  if (settings.database.empty()) return std::nullopt;
  return settings.database;
}

}  // namespace

std::unique_ptr<storage::TokenStore> open_store(const StoreOptions& options) {
  std::optional<std::string> flag;
  if (!options.database.empty()) flag = options.database;
  const auto sources =
      storage::database_url_sources_from_environment(flag, configured_database(options));
  const auto resolved = take(storage::resolve_database_url(sources));
  if (!resolved.create_directory.empty()) {
    if (auto created = storage::create_private_directory(resolved.create_directory); !created)
      throw_store_error(created.error());
  }
  return take(storage::open_store(resolved.url));
}

void throw_store_error(const storage::StoreError& error) {
  if (error.failure == storage::Failure::unavailable)
    throw mcpd::Error("database unreachable: " + error.message, k_exit_storage);
  throw mcpd::Error(error.message, k_exit_failure);
}

void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  }
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
