// The entry points of mcpd-postgres.so (see storage/postgres/module.hpp). Nothing may escape
// them: an exception becomes an `unavailable` result.
#include "storage/postgres/module.hpp"

#include <exception>
#include <type_traits>

#include "storage/postgres/postgres_store.hpp"

namespace pg_module = mcpd::storage::postgres_module;

extern "C" __attribute__((visibility("default"))) const char* mcpd_postgres_build_id_v1() noexcept {
  return mcpd::storage::k_build_id;
}

extern "C" __attribute__((visibility("default"))) void mcpd_postgres_store_v1(
    const std::string& url, std::optional<pg_module::OpenResult>& out) noexcept {
  try {
    out.emplace(mcpd::storage::open_postgres_store(url));
  } catch (const std::exception& e) {
    out.emplace(mcpd::storage::fail(mcpd::storage::Failure::unavailable,
                                    std::string{"PostgreSQL: "} + e.what()));
  } catch (...) {
    out.emplace(
        mcpd::storage::fail(mcpd::storage::Failure::unavailable, "PostgreSQL: unknown error"));
  }
}

// The loader looks the functions up by name: their types must be the ones module.hpp declares.
static_assert(std::is_same_v<decltype(&mcpd_postgres_build_id_v1), pg_module::BuildIdFunction>);
static_assert(std::is_same_v<decltype(&mcpd_postgres_store_v1), pg_module::FactoryFunction>);
