// An unreachable PostgreSQL server is `unavailable` quickly, never a hang. Needs no server. The
// backend is the module of this build tree (mcpd-postgres.so), loaded as mcpd loads it.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "storage/postgres_module_loader.hpp"
#include "storage/token_store.hpp"

using namespace mcpd;

TEST_CASE("postgres: nothing listening -> unavailable, fast", "[storage][postgres]") {
  const auto start = std::chrono::steady_clock::now();
  auto opened = storage::open_store("postgresql://mcpd:s3cret@127.0.0.1:1/mcpd");
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(opened);
  CHECK(opened.error().failure == storage::Failure::unavailable);
  CHECK(opened.error().message.find("s3cret") == std::string::npos);  // password redacted
  CHECK(opened.error().message.find('\n') == std::string::npos);      // one line
  CHECK(took < std::chrono::seconds{30});
}

TEST_CASE("postgres: the postgres:// alias selects the same backend", "[storage][postgres]") {
  auto opened = storage::open_store("postgres://127.0.0.1:1/mcpd?connect_timeout=2");
  REQUIRE_FALSE(opened);
  CHECK(opened.error().failure == storage::Failure::unavailable);
}

TEST_CASE("postgres: the backend is this build tree's module", "[storage][postgres]") {
  const auto path = storage::postgres_module_path();
  CHECK(path.filename() == "mcpd-postgres.so");
  CHECK(std::filesystem::exists(path));
}
