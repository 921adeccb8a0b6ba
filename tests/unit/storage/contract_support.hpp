#pragma once
// Fresh, empty databases for the storage contract suite, on the backend named by
// MCPD_TEST_BACKEND (sqlite | postgres). PostgreSQL comes from the test server started by
// tests/pg/pg_ctl.sh (its URL in the file named by MCPD_TEST_PG_URL_FILE); without it the
// suite fails rather than skips.

#include <memory>
#include <string>
#include <vector>

namespace mcpd::test {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual std::string url() const = 0;
  // Every byte the backend keeps for this database, as text: the SQLite file with its -wal and
  // -shm files, or every row of every table cast to text on PostgreSQL.
  virtual std::string raw_contents() const = 0;
  // Runs SQL behind the store's back (to damage rows on purpose).
  virtual void raw_exec(const std::string& sql) const = 0;
  // Breaks every connection other processes hold to this database (PostgreSQL: terminates
  // their server backends, as a server restart would; SQLite has no connections to break).
  virtual void drop_connections() const = 0;
  // The first column of the first row of a query, as an integer.
  virtual long raw_long(const std::string& sql) const = 0;
};

std::string backend_name();  // "sqlite" or "postgres"
std::unique_ptr<TestDatabase> fresh_database();

}  // namespace mcpd::test
