#include "storage/token_store.hpp"

#include <string_view>

#include "storage/database_url.hpp"
#include "storage/postgres_module_loader.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace mcpd::storage {

namespace {

using Opener = Result<std::unique_ptr<TokenStore>> (*)(const std::string& url);

struct Backend {
  std::string_view scheme;
  Opener open;
};

// ccache-style backend table: scheme -> factory. PostgreSQL lives in a module loaded on first
// use (postgres_module_loader.hpp), so SQLite users never map libpq.
constexpr Backend k_backends[] = {
    {"sqlite", open_sqlite_store},
    {"postgresql", open_postgres_module_store},
    {"postgres", open_postgres_module_store},
};

}  // namespace

std::vector<std::string> supported_schemes() {
  std::vector<std::string> schemes;
  for (const auto& backend : k_backends) schemes.emplace_back(backend.scheme);
  return schemes;
}

Result<std::unique_ptr<TokenStore>> open_store(const std::string& url) {
  const auto scheme = url_scheme(url);
  for (const auto& backend : k_backends) {
    if (backend.scheme == scheme) return backend.open(url);
  }
  std::string known;
  for (const auto& backend : k_backends)
    known += (known.empty() ? "" : ", ") + std::string{backend.scheme};
  return fail(Failure::invalid,
              "unsupported database URL '" + redact_url(url) + "' (schemes: " + known + ")");
}

Result<std::unique_ptr<TokenStore>> open_store(const core::Settings& settings) {
  if (settings.database.empty())
    return fail(Failure::invalid,
                "no database configured and no home directory for the default "
                "(set --database or MCPD_DATABASE_URL)");
  if (!settings.database_directory.empty()) {
    if (auto created = create_private_directory(settings.database_directory.string()); !created)
      return created.error();
  }
  return open_store(settings.database);
}

}  // namespace mcpd::storage
