#pragma once
// The embedded default backend. URL: sqlite:///absolute/path/mcpd.db (or sqlite://relative).
// WAL journal, 5 s busy timeout, foreign keys on, every write in BEGIN IMMEDIATE so a CLI
// process and a running daemon queue up instead of deadlocking.

#include <memory>
#include <string>

#include "storage/token_store.hpp"

namespace mcpd::storage {

Result<std::unique_ptr<TokenStore>> open_sqlite_store(const std::string& url);

}  // namespace mcpd::storage
