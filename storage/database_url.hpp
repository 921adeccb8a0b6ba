#pragma once
// Which database to use. Highest first: --database, MCPD_DATABASE_URL, DATABASE_URL, the
// config file's "database", then the default sqlite:// file:
//   $STATE_DIRECTORY/mcpd.db                 under systemd (StateDirectory=mcpd)
//   $XDG_DATA_HOME/mcpd/mcpd.db              otherwise
//   ~/.local/share/mcpd/mcpd.db              without XDG_DATA_HOME
// Resolution is a pure function of those values; the caller reads the environment.

#include <optional>
#include <string>

#include "storage/result.hpp"

namespace mcpd::storage {

struct DatabaseUrlSources {
  std::optional<std::string> flag;               // --database
  std::optional<std::string> mcpd_database_url;  // MCPD_DATABASE_URL
  std::optional<std::string> database_url;       // DATABASE_URL
  std::optional<std::string> config;             // "database" in the config file
  std::optional<std::string> state_directory;    // STATE_DIRECTORY (may list several, ':')
  std::optional<std::string> xdg_data_home;      // XDG_DATA_HOME (ignored unless absolute)
  std::optional<std::string> home;               // HOME
};

struct ResolvedDatabase {
  std::string url;
  std::string source;            // "--database", "MCPD_DATABASE_URL", ..., "default"
  std::string create_directory;  // for defaults: the directory to create (0700) before opening
};

// invalid when nothing is set and there is no home directory to default to.
Result<ResolvedDatabase> resolve_database_url(const DatabaseUrlSources& sources);

// Fills the environment fields from getenv (empty values count as unset).
DatabaseUrlSources database_url_sources_from_environment(std::optional<std::string> flag,
                                                         std::optional<std::string> config);

// mkdir -p with mode 0700 for the directories it creates.
Result<void> create_private_directory(const std::string& directory);

// Lower-case scheme before ':' ("" when there is none).
std::string url_scheme(const std::string& url);
// The URL with any password replaced by "***", for messages and logs.
std::string redact_url(const std::string& url);
// The file path of a sqlite: URL: sqlite:///abs/path, sqlite://rel/path, sqlite:path.
Result<std::string> sqlite_path(const std::string& url);

}  // namespace mcpd::storage
