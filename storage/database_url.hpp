#pragma once
// Database URLs as storage reads them. Which URL to use (--database, MCPD_DATABASE_URL,
// DATABASE_URL, the config file, the default file) is decided once, by the settings
// (core/config); storage only opens what it is given.

#include <string>

#include "core/util/url.hpp"
#include "storage/result.hpp"

namespace mcpd::storage {

using core::redact_url;  // the URL with any password replaced by "***"
using core::url_scheme;  // lower-case scheme before ':'

// mkdir -p with mode 0700 for the directories it creates.
Result<void> create_private_directory(const std::string& directory);

// The file path of a sqlite: URL: sqlite:///abs/path, sqlite://rel/path, sqlite:path.
Result<std::string> sqlite_path(const std::string& url);

}  // namespace mcpd::storage
