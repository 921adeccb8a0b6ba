#pragma once
// The contract between mcpd_storage and the PostgreSQL module (mcpd-postgres.so), which is
// linked separately so that only a process opening a postgresql:// URL maps libpqxx, libpq and
// their dependencies (GnuTLS, Kerberos, LDAP, ...). The module exports two C symbols; C++ types
// cross the boundary, which is sound only between an executable and a module of the same build:
// the loader refuses a module whose build id differs from its own (k_build_id).

#include <memory>
#include <optional>
#include <string>

#include "storage/build_id.hpp"
#include "storage/token_store.hpp"

namespace mcpd::storage::postgres_module {

using OpenResult = Result<std::unique_ptr<TokenStore>>;

// extern "C" const char* mcpd_postgres_build_id_v1() noexcept: the module's k_build_id.
inline constexpr const char* k_build_id_symbol = "mcpd_postgres_build_id_v1";
using BuildIdFunction = const char* (*)() noexcept;

// extern "C" void mcpd_postgres_store_v1(const std::string& url, std::optional<OpenResult>& out)
// noexcept: opens (and migrates) the store; `out` always holds the result afterwards.
inline constexpr const char* k_factory_symbol = "mcpd_postgres_store_v1";
using FactoryFunction = void (*)(const std::string& url, std::optional<OpenResult>& out) noexcept;

// The module's file name, in ${CMAKE_INSTALL_LIBDIR}/mcpd and in the build tree.
inline constexpr const char* k_file_name = "mcpd-postgres.so";

}  // namespace mcpd::storage::postgres_module
