#pragma once
// PostgreSQL backend. URL: postgresql://user:password@host:port/database?param=value (libpq's
// own URI syntax; "postgres://" too). mcpd adds connect_timeout=5 unless the URL sets it, so an
// unreachable server fails fast instead of hanging.

#include <memory>
#include <string>

#include "storage/token_store.hpp"

namespace mcpd::storage {

Result<std::unique_ptr<TokenStore>> open_postgres_store(const std::string& url);

}  // namespace mcpd::storage
