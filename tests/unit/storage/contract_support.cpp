#include "contract_support.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>

namespace mcpd::test {
namespace {

namespace fs = std::filesystem;

std::atomic<int> g_counter{0};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class SqliteDatabase final : public TestDatabase {
 public:
  SqliteDatabase() {
    m_dir = fs::temp_directory_path() /
            ("mcpd-contract-" + std::to_string(::getpid()) + "-" + std::to_string(++g_counter));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
  }
  ~SqliteDatabase() override {
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }
  std::string url() const override { return "sqlite://" + file().string(); }
  std::string raw_contents() const override {
    std::string all;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      fs::path path = file().string() + suffix;
      if (fs::exists(path)) all += read_file(path);
    }
    return all;
  }
  void raw_exec(const std::string& sql) const override {
    SQLite::Database db(file().string(), SQLite::OPEN_READWRITE, 5000);
    db.exec(sql);
  }
  void drop_connections() const override {}
  long raw_long(const std::string& sql) const override {
    SQLite::Database db(file().string(), SQLite::OPEN_READONLY, 5000);
    return db.execAndGet(sql).getInt64();
  }

 private:
  fs::path file() const { return m_dir / "mcpd.db"; }
  fs::path m_dir;
};

std::string pg_base_url() {
  const char* file = std::getenv("MCPD_TEST_PG_URL_FILE");
  if (!file || !*file)
    throw std::runtime_error(
        "MCPD_TEST_PG_URL_FILE is not set (run through ctest: the "
        "postgres_start fixture provides it)");
  std::string url;
  std::ifstream in(file);
  std::getline(in, url);
  if (url.empty())
    throw std::runtime_error(std::string{"no PostgreSQL URL in "} + file +
                             " (did the postgres_start fixture fail?)");
  return url;
}

class PostgresDatabase final : public TestDatabase {
 public:
  PostgresDatabase() : m_base(pg_base_url()) {
    m_name = "mcpd_c_" + std::to_string(::getpid()) + "_" + std::to_string(++g_counter);
    pqxx::connection admin(m_base);
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + m_name);
    tx.exec("CREATE DATABASE " + m_name);
  }
  ~PostgresDatabase() override {
    try {
      pqxx::connection admin(m_base);
      pqxx::nontransaction tx(admin);
      tx.exec("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
    } catch (...) {
    }
  }
  std::string url() const override {
    const auto slash = m_base.rfind('/');
    return m_base.substr(0, slash + 1) + m_name;
  }
  std::string raw_contents() const override {
    pqxx::connection c(url());
    pqxx::work tx(c);
    std::string all;
    const auto tables = tx.exec(
        "SELECT quote_ident(table_name) FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
    for (const auto& table : tables) {
      const auto name = table[0].as<std::string>();
      for (const auto& row : tx.exec("SELECT t::text FROM " + name + " t"))
        all += name + ": " + row[0].as<std::string>() + "\n";
    }
    return all;
  }
  void raw_exec(const std::string& sql) const override {
    pqxx::connection c(url());
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }
  void drop_connections() const override {
    pqxx::connection c(m_base);
    pqxx::nontransaction tx(c);
    tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        m_name);
  }
  long raw_long(const std::string& sql) const override {
    pqxx::connection c(url());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<long>();
  }

 private:
  std::string m_base;
  std::string m_name;
};

}  // namespace

std::string backend_name() {
  const char* backend = std::getenv("MCPD_TEST_BACKEND");
  return backend && *backend ? backend : "sqlite";
}

std::unique_ptr<TestDatabase> fresh_database() {
  const auto backend = backend_name();
  if (backend == "sqlite") return std::make_unique<SqliteDatabase>();
  if (backend == "postgres") return std::make_unique<PostgresDatabase>();
  throw std::runtime_error("MCPD_TEST_BACKEND must be sqlite or postgres, not " + backend);
}

}  // namespace mcpd::test
