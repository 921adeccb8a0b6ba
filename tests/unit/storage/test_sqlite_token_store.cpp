// SQLite-specific behaviour: file permissions, WAL, busy handling against another connection
// that holds the write lock (the CLI against a running daemon), damaged or newer databases.
// The backend-neutral contract is in contract_token_store.cpp.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "core/auth/token.hpp"
#include "storage/migrations.hpp"
#include "storage/token_store.hpp"

using namespace mcpd;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("mcpd-sqlite-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string db() const { return (path / "mcpd.db").string(); }
  std::string url() const { return "sqlite://" + db(); }
};

std::unique_ptr<storage::TokenStore> open(const std::string& url) {
  auto opened = storage::open_store(url);
  if (!opened) FAIL(opened.error().message);
  return std::move(opened).value();
}

}  // namespace

TEST_CASE("sqlite: new database is private and in WAL mode", "[storage][sqlite]") {
  TempDir dir;
  auto store = open(dir.url());
  CHECK(store->backend() == "sqlite");
  struct stat st {};
  REQUIRE(::stat(dir.db().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  SQLite::Database raw(dir.db(), SQLite::OPEN_READONLY);
  CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(raw.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 'tokens'").getInt() == 1);
  // The hash column has a unique index (lookups never scan).
  CHECK(raw.execAndGet("SELECT COUNT(*) FROM pragma_index_list('tokens') WHERE \"unique\" = 1")
            .getInt() >= 1);
}

TEST_CASE("sqlite: writes wait for another process's write transaction", "[storage][sqlite]") {
  TempDir dir;
  auto store = open(dir.url());
  REQUIRE(store->add_user("ada@example.com", ""));

  SQLite::Database other(dir.db(), SQLite::OPEN_READWRITE);
  auto holder = std::async(std::launch::async, [&] {
    SQLite::Transaction tx(other, SQLite::TransactionBehavior::IMMEDIATE);
    other.exec("UPDATE users SET name = 'held' WHERE email = 'ada@example.com'");
    std::this_thread::sleep_for(800ms);
    tx.commit();
  });
  std::this_thread::sleep_for(100ms);  // let the holder take the lock first

  // Reads are not blocked by the writer (WAL)...
  CHECK(store->get_user("ada@example.com"));
  // ...and writes queue behind it instead of failing.
  auto added = store->add_user("bob@example.com", "");
  holder.get();
  REQUIRE(added);
  CHECK(store->get_user("ada@example.com")->name == "held");
}

TEST_CASE("sqlite: a lock held past the busy timeout is 'unavailable', not a hang",
          "[storage][sqlite]") {
  TempDir dir;
  auto store = open(dir.url());
  SQLite::Database other(dir.db(), SQLite::OPEN_READWRITE);
  SQLite::Transaction tx(other, SQLite::TransactionBehavior::IMMEDIATE);
  other.exec(
      "INSERT INTO users (email, name, is_active, created_at, updated_at) "
      "VALUES ('x@example.com', '', 1, 0, 0)");
  const auto start = std::chrono::steady_clock::now();
  auto added = store->add_user("bob@example.com", "");
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(added);
  CHECK(added.error().failure == storage::Failure::unavailable);
  CHECK_THAT(added.error().message, Catch::Contains("locked"));
  CHECK(waited >= 4s);  // it did wait for the busy timeout
  CHECK(waited < 60s);  // and then gave up
}

TEST_CASE("sqlite: unusable files fail cleanly", "[storage][sqlite]") {
  TempDir dir;
  SECTION("missing directory") {
    auto opened = storage::open_store("sqlite://" + (dir.path / "no/such/dir/mcpd.db").string());
    REQUIRE_FALSE(opened);
    CHECK(opened.error().failure == storage::Failure::unavailable);
  }
  SECTION("not a database") {
    { std::ofstream(dir.db()) << std::string(4096, 'x'); }
    auto opened = storage::open_store(dir.url());
    REQUIRE_FALSE(opened);
    CHECK(opened.error().failure == storage::Failure::invalid);
  }
  SECTION("a schema newer than this mcpd") {
    open(dir.url()).reset();
    {
      SQLite::Database raw(dir.db(), SQLite::OPEN_READWRITE);
      raw.exec("INSERT INTO schema_version VALUES (999, 'from the future', 0)");
    }
    auto opened = storage::open_store(dir.url());
    REQUIRE_FALSE(opened);
    CHECK(opened.error().failure == storage::Failure::invalid);
    CHECK_THAT(opened.error().message, Catch::Contains("newer"));
  }
  SECTION("an empty path") {
    CHECK(storage::open_store("sqlite://").error().failure == storage::Failure::invalid);
  }
}
