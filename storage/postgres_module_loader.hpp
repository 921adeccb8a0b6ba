#pragma once
// Opening a postgresql:// store through the PostgreSQL module (storage/postgres/module.hpp),
// loaded with dlopen() on first use and kept for the life of the process.
//
// Where it is looked for: in the install layout relative to the running executable
// (<bindir>/../<libdir>/mcpd/mcpd-postgres.so, e.g. /usr/bin/mcpd ->
// /usr/lib/x86_64-linux-gnu/mcpd/mcpd-postgres.so), and, for an executable of the build tree
// (build/*/cmd/mcpd, the tests) where that is absent, the build tree's own module. An installed
// executable never looks into the build tree.

#include <filesystem>
#include <memory>
#include <string>

#include "storage/token_store.hpp"

namespace mcpd::storage {

// unavailable when the module is missing, cannot be loaded or is from another build; otherwise
// what the module's backend answers.
Result<std::unique_ptr<TokenStore>> open_postgres_module_store(const std::string& url);

// The module this process would load.
std::filesystem::path postgres_module_path();

}  // namespace mcpd::storage
