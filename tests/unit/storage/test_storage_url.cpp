#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "storage/database_url.hpp"
#include "storage/token_store.hpp"

using namespace mcpd::storage;

TEST_CASE("database URL helpers", "[storage][url]") {
  CHECK(url_scheme("sqlite:///x.db") == "sqlite");
  CHECK(url_scheme("PostgreSQL://h/db") == "postgresql");
  CHECK(url_scheme("/just/a/path") == "");
  CHECK(url_scheme("C:/windows") == "c");

  CHECK(redact_url("postgresql://ada:s3cret@db:5432/mcpd") == "postgresql://ada:***@db:5432/mcpd");
  CHECK(redact_url("postgresql://ada@db/mcpd") == "postgresql://ada@db/mcpd");
  CHECK(redact_url("postgresql://db/mcpd?user=ada&password=s3cret&sslmode=require") ==
        "postgresql://db/mcpd?user=ada&password=***&sslmode=require");
  CHECK(redact_url("postgresql://a:b@c@host/db") == "postgresql://a:***@host/db");

  CHECK(*sqlite_path("sqlite:///var/lib/mcpd/mcpd.db") == "/var/lib/mcpd/mcpd.db");
  CHECK(*sqlite_path("sqlite://relative/mcpd.db") == "relative/mcpd.db");
  CHECK(*sqlite_path("sqlite:mcpd.db") == "mcpd.db");
  CHECK_FALSE(sqlite_path("sqlite://"));
  CHECK_FALSE(sqlite_path("postgresql://x"));
}

TEST_CASE("open_store picks the backend by scheme", "[storage][url]") {
  auto unknown = open_store("mysql://db/x");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().failure == Failure::invalid);
  CHECK_THAT(unknown.error().message, Catch::Contains("sqlite") && Catch::Contains("postgresql"));
  auto secret = open_store("redis://u:topsecret@h/x");
  CHECK(secret.error().message.find("topsecret") == std::string::npos);
  CHECK(open_store("not a url").error().failure == Failure::invalid);
  CHECK(supported_schemes() == std::vector<std::string>{"sqlite", "postgresql", "postgres"});
}

TEST_CASE("create_private_directory makes missing directories 0700", "[storage][url]") {
  namespace fs = std::filesystem;
  const fs::path base = fs::temp_directory_path() / ("mcpd-dir-" + std::to_string(::getpid()));
  fs::remove_all(base);
  const auto target = base / "share" / "mcpd";
  REQUIRE(create_private_directory(target.string()));
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(create_private_directory(target.string()));  // exists: fine
  // A file in the way is an error, not a crash.
  const auto file = base / "file";
  { std::ofstream(file) << "x"; }
  auto blocked = create_private_directory((file / "sub").string());
  REQUIRE_FALSE(blocked);
  CHECK(blocked.error().failure == Failure::unavailable);
  fs::remove_all(base);
}
