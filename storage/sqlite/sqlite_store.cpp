#include "storage/sqlite/sqlite_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>
#include <type_traits>

#include "storage/codec.hpp"
#include "storage/database_url.hpp"
#include "storage/migrations.hpp"
#include "storage/pool.hpp"
#include "storage/store_checks.hpp"

namespace mcpd::storage {
namespace {

using core::auth::now_seconds;
using namespace std::chrono_literals;

constexpr int k_busy_timeout_ms = 5000;
// WAL lets readers run beside the one writer; a few connections keep worker threads from
// queueing behind each other.
constexpr std::size_t k_pool_size = 4;
constexpr auto k_pool_wait = 10s;

constexpr const char* k_user_columns =
    "u.id, u.email, u.name, u.is_active, u.created_at, u.updated_at";
constexpr const char* k_token_columns =
    "t.id, t.user_id, u.email, t.name, t.last8, t.is_active, t.allowed_tools, t.expires_at, "
    "t.last_used_at, t.created_at, t.updated_at";

std::string select_tokens(const std::string& where) {
  return std::string{"SELECT "} + k_token_columns + ", " + k_user_columns +
         " FROM tokens t JOIN users u ON u.id = t.user_id " + where;
}

std::optional<core::auth::Time> optional_time(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return codec::from_db(column.getInt64());
}

User read_user(SQLite::Statement& row, int first) {
  User user;
  user.id = row.getColumn(first).getInt64();
  user.email = row.getColumn(first + 1).getString();
  user.name = row.getColumn(first + 2).getString();
  user.is_active = row.getColumn(first + 3).getInt() != 0;
  user.created_at = codec::from_db(row.getColumn(first + 4).getInt64());
  user.updated_at = codec::from_db(row.getColumn(first + 5).getInt64());
  return user;
}

Token read_token(SQLite::Statement& row) {
  Token token;
  token.id = row.getColumn(0).getInt64();
  token.user_id = row.getColumn(1).getInt64();
  token.user_email = row.getColumn(2).getString();
  token.name = row.getColumn(3).getString();
  token.last8 = row.getColumn(4).getString();
  token.is_active = row.getColumn(5).getInt() != 0;
  token.allowed_tools = codec::decode_tools(row.getColumn(6).getString());
  token.expires_at = optional_time(row.getColumn(7));
  token.last_used_at = optional_time(row.getColumn(8));
  token.created_at = codec::from_db(row.getColumn(9).getInt64());
  token.updated_at = codec::from_db(row.getColumn(10).getInt64());
  return token;
}

constexpr int k_token_column_count = 11;

void bind_optional(SQLite::Statement& statement, int index, std::optional<std::int64_t> value) {
  if (value)
    statement.bind(index, static_cast<int64_t>(*value));
  else
    statement.bind(index);
}

bool is_busy(int code) {
  return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

StoreError translate(const SQLite::Exception& e, const std::string& what, const std::string& path) {
  const int code = e.getErrorCode();
  const int extended = e.getExtendedErrorCode();
  const std::string detail = what + ": " + e.what() + " (" + path + ")";
  if (code == SQLITE_CONSTRAINT) {
    if (extended == SQLITE_CONSTRAINT_FOREIGNKEY) return fail(Failure::not_found, detail);
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY)
      return fail(Failure::conflict, detail);
    return fail(Failure::invalid, detail);
  }
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return fail(Failure::invalid, detail);
  return fail(Failure::unavailable, detail);
}

// One pooled connection and the statement the hot path (find_by_hash) reuses.
struct Connection {
  SQLite::Database db;
  std::unique_ptr<SQLite::Statement> find_by_hash;

  explicit Connection(const std::string& path)
      : db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, k_busy_timeout_ms) {
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("PRAGMA synchronous = NORMAL");  // durable enough with WAL, much faster commits
    enable_wal();
  }

 private:
  // Switching a fresh file to WAL needs a moment alone with it; another process opening the
  // same new file at the same time makes that busy. WAL is persistent, so later opens are no-ops.
  void enable_wal() {
    for (int attempt = 0;; ++attempt) {
      try {
        if (db.execAndGet("PRAGMA journal_mode = WAL").getString() == "wal") return;
      } catch (const SQLite::Exception& e) {
        if (!is_busy(e.getErrorCode()) || attempt >= 50) throw;
      }
      if (attempt >= 50) return;  // still usable in rollback mode, only less concurrent
      std::this_thread::sleep_for(20ms);
    }
  }
};

int read_schema_version(SQLite::Database& db) {
  if (!db.tableExists("schema_version")) return 0;
  return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_version").getInt();
}

class SqliteStore final : public TokenStore {
 public:
  explicit SqliteStore(std::string path) : m_path(std::move(path)) {}

  Result<void> open();

  std::string backend() const override { return "sqlite"; }
  Result<User> add_user(const std::string& email, const std::string& name) override;
  Result<User> get_user(const std::string& email) override;
  Result<std::vector<User>> list_users() override;
  Result<User> set_user_active(const std::string& email, bool active) override;
  Result<Token> create_token(const NewToken& token) override;
  Result<std::vector<Token>> list_tokens(const TokenFilter& filter) override;
  Result<Token> revoke_token(std::int64_t id) override;
  Result<TokenWithUser> find_by_hash(const std::string& hash) override;
  Result<RevokedJti> revoke_jti(const std::string& jti, std::optional<Time> expires_at,
                                const std::string& reason, Time now) override;
  Result<bool> is_jti_revoked(const std::string& jti, Time now) override;
  Result<std::size_t> prune_revoked_jtis(Time now) override;
  Result<void> ping() override;
  Result<int> schema_version() override;

 protected:
  Result<void> write_last_used(std::int64_t token_id, Time now) override;

 private:
  // Runs f(connection) on a pooled connection, turning exceptions into StoreErrors.
  template <class F>
  std::invoke_result_t<F, Connection&> with_connection(const std::string& what, F&& f);
  Result<void> migrate(SQLite::Database& db);
  static Result<Token> token_by_id(SQLite::Database& db, std::int64_t id);
  static Result<User> user_by_email(SQLite::Database& db, const std::string& email);

  std::string m_path;
  Pool<Connection> m_pool{k_pool_size};
};

template <class F>
std::invoke_result_t<F, Connection&> SqliteStore::with_connection(const std::string& what, F&& f) {
  auto lease = m_pool.acquire(k_pool_wait);
  if (!lease) return fail(Failure::unavailable, what + ": every database connection is busy");
  auto& connection = lease->connection();
  try {
    if (!connection) connection = std::make_unique<Connection>(m_path);
    return f(*connection);
  } catch (const SQLite::Exception& e) {
    auto error = translate(e, what, m_path);
    // A connection that failed for reasons other than contention or bad input is suspect.
    if (error.failure == Failure::unavailable && !is_busy(e.getErrorCode())) connection.reset();
    return error;
  } catch (const std::exception& e) {
    return fail(Failure::invalid, what + ": " + e.what());
  }
}

Result<void> SqliteStore::open() {
  struct stat st {};
  const bool existed = ::stat(m_path.c_str(), &st) == 0;
  auto migrated = with_connection("open", [&](Connection& c) { return migrate(c.db); });
  if (!migrated) return migrated;
  // The file holds e-mail addresses and token hashes: keep it to its owner. SQLite creates the
  // -wal and -shm files with the database file's permissions.
  if (!existed) ::chmod(m_path.c_str(), 0600);
  return {};
}

Result<void> SqliteStore::migrate(SQLite::Database& db) {
  const int latest = latest_schema_version();
  int current = read_schema_version(db);
  if (current > latest) {
    return fail(Failure::invalid, "database schema version " + std::to_string(current) +
                                      " is newer than this mcpd supports (" +
                                      std::to_string(latest) + ")");
  }
  if (current == latest) return {};
  // Concurrent first opens queue on the write lock; the loser sees the winner's work.
  SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
  db.exec(std::string{k_schema_version_table_sqlite});
  current = read_schema_version(db);
  for (const auto& migration : migrations()) {
    if (migration.version <= current) continue;
    db.exec(std::string{migration.sqlite});
    SQLite::Statement record(
        db, "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)");
    record.bind(1, migration.version);
    record.bind(2, std::string{migration.description});
    record.bind(3, static_cast<int64_t>(codec::to_db(now_seconds())));
    record.exec();
  }
  tx.commit();
  return {};
}

Result<Token> SqliteStore::token_by_id(SQLite::Database& db, std::int64_t id) {
  SQLite::Statement query(db, select_tokens("WHERE t.id = ?"));
  query.bind(1, static_cast<int64_t>(id));
  if (!query.executeStep())
    return fail(Failure::not_found, "token " + std::to_string(id) + " not found");
  return read_token(query);
}

Result<User> SqliteStore::user_by_email(SQLite::Database& db, const std::string& email) {
  SQLite::Statement query(
      db, std::string{"SELECT "} + k_user_columns + " FROM users u WHERE u.email = ?");
  query.bind(1, email);
  if (!query.executeStep()) return fail(Failure::not_found, "user '" + email + "' not found");
  return read_user(query, 0);
}

Result<User> SqliteStore::add_user(const std::string& email, const std::string& name) {
  if (auto invalid = checks::new_user(email, name)) return *invalid;
  const auto normalized = core::auth::normalize_email(email);
  auto result = with_connection("add user", [&](Connection& c) -> Result<User> {
    const auto now = codec::to_db(now_seconds());
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(c.db,
                             "INSERT INTO users (email, name, is_active, created_at, updated_at) "
                             "VALUES (?, ?, 1, ?, ?)");
    insert.bind(1, normalized);
    insert.bind(2, name);
    insert.bind(3, static_cast<int64_t>(now));
    insert.bind(4, static_cast<int64_t>(now));
    insert.exec();
    auto user = user_by_email(c.db, normalized);
    tx.commit();
    return user;
  });
  return checks::explain_user_conflict(std::move(result), normalized);
}

Result<User> SqliteStore::get_user(const std::string& email) {
  return with_connection("get user", [&](Connection& c) {
    return user_by_email(c.db, core::auth::normalize_email(email));
  });
}

Result<std::vector<User>> SqliteStore::list_users() {
  return with_connection("list users", [&](Connection& c) -> Result<std::vector<User>> {
    SQLite::Statement query(
        c.db, std::string{"SELECT "} + k_user_columns + " FROM users u ORDER BY u.id");
    std::vector<User> users;
    while (query.executeStep()) users.push_back(read_user(query, 0));
    return users;
  });
}

Result<User> SqliteStore::set_user_active(const std::string& email, bool active) {
  const auto normalized = core::auth::normalize_email(email);
  return with_connection("set user active", [&](Connection& c) -> Result<User> {
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(c.db,
                             "UPDATE users SET updated_at = CASE WHEN is_active = ?1 THEN "
                             "updated_at ELSE ?2 END, is_active = ?1 WHERE email = ?3");
    update.bind(1, active ? 1 : 0);
    update.bind(2, static_cast<int64_t>(codec::to_db(now_seconds())));
    update.bind(3, normalized);
    if (update.exec() == 0) return fail(Failure::not_found, "user '" + normalized + "' not found");
    auto user = user_by_email(c.db, normalized);
    tx.commit();
    return user;
  });
}

Result<Token> SqliteStore::create_token(const NewToken& token) {
  if (auto invalid = checks::new_token(token)) return *invalid;
  auto result = with_connection("create token", [&](Connection& c) -> Result<Token> {
    const auto now = codec::to_db(now_seconds());
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(
        c.db,
        "INSERT INTO tokens (user_id, name, token_hash, last8, is_active, allowed_tools, "
        "expires_at, last_used_at, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?, "
        "?)");
    insert.bind(1, static_cast<int64_t>(token.user_id));
    insert.bind(2, token.name);
    insert.bind(3, token.hash);
    insert.bind(4, token.last8);
    insert.bind(5, codec::encode_tools(token.allowed_tools));
    bind_optional(insert, 6, codec::to_db(token.expires_at));
    insert.bind(7, static_cast<int64_t>(now));
    insert.bind(8, static_cast<int64_t>(now));
    insert.exec();
    auto created = token_by_id(c.db, c.db.getLastInsertRowid());
    tx.commit();
    return created;
  });
  return checks::explain_token_conflict(std::move(result), token.user_id);
}

Result<std::vector<Token>> SqliteStore::list_tokens(const TokenFilter& filter) {
  return with_connection("list tokens", [&](Connection& c) -> Result<std::vector<Token>> {
    SQLite::Statement query(
        c.db, select_tokens("WHERE (?1 IS NULL OR u.email = ?1) AND (?2 = 1 OR (t.is_active = 1 "
                            "AND (t.expires_at IS NULL OR t.expires_at > ?3))) ORDER BY t.id"));
    if (filter.user_email)
      query.bind(1, core::auth::normalize_email(*filter.user_email));
    else
      query.bind(1);
    query.bind(2, filter.include_inactive ? 1 : 0);
    query.bind(3, static_cast<int64_t>(codec::to_db(filter.now)));
    std::vector<Token> tokens;
    while (query.executeStep()) tokens.push_back(read_token(query));
    return tokens;
  });
}

Result<Token> SqliteStore::revoke_token(std::int64_t id) {
  return with_connection("revoke token", [&](Connection& c) -> Result<Token> {
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(c.db,
                             "UPDATE tokens SET updated_at = CASE WHEN is_active = 0 THEN "
                             "updated_at ELSE ?1 END, is_active = 0 WHERE id = ?2");
    update.bind(1, static_cast<int64_t>(codec::to_db(now_seconds())));
    update.bind(2, static_cast<int64_t>(id));
    if (update.exec() == 0)
      return fail(Failure::not_found, "token " + std::to_string(id) + " not found");
    auto token = token_by_id(c.db, id);
    tx.commit();
    return token;
  });
}

Result<TokenWithUser> SqliteStore::find_by_hash(const std::string& hash) {
  return with_connection("find token", [&](Connection& c) -> Result<TokenWithUser> {
    if (!c.find_by_hash)
      c.find_by_hash =
          std::make_unique<SQLite::Statement>(c.db, select_tokens("WHERE t.token_hash = ?"));
    auto& query = *c.find_by_hash;
    query.reset();
    query.bind(1, hash);
    if (!query.executeStep()) {
      query.reset();
      return fail(Failure::not_found, "no token with that hash");
    }
    TokenWithUser found{read_token(query), read_user(query, k_token_column_count)};
    query.reset();  // ends the read transaction so the WAL can be checkpointed
    return found;
  });
}

Result<void> SqliteStore::write_last_used(std::int64_t token_id, Time now) {
  return with_connection("record token usage", [&](Connection& c) -> Result<void> {
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(c.db,
                             "UPDATE tokens SET last_used_at = ?1 WHERE id = ?2 AND "
                             "(last_used_at IS NULL OR last_used_at <= ?3)");
    update.bind(1, static_cast<int64_t>(codec::to_db(now)));
    update.bind(2, static_cast<int64_t>(token_id));
    update.bind(3, static_cast<int64_t>(codec::to_db(now - k_usage_interval)));
    update.exec();
    tx.commit();
    return {};
  });
}

Result<RevokedJti> SqliteStore::revoke_jti(const std::string& jti, std::optional<Time> expires_at,
                                           const std::string& reason, Time now) {
  if (auto invalid = checks::revoked_jti(jti, reason)) return *invalid;
  return with_connection("revoke jti", [&](Connection& c) -> Result<RevokedJti> {
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement prune(c.db, "DELETE FROM revoked_jtis WHERE expires_at <= ?");
    prune.bind(1, static_cast<int64_t>(codec::to_db(now)));
    prune.exec();
    // A second revocation never shortens the first: the later expiry wins, NULL (never) most.
    SQLite::Statement upsert(
        c.db,
        "INSERT INTO revoked_jtis (jti, expires_at, reason, revoked_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (jti) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at IS NULL OR "
        "revoked_jtis.expires_at IS NULL THEN NULL ELSE MAX(excluded.expires_at, "
        "revoked_jtis.expires_at) END, reason = excluded.reason, revoked_at = excluded.revoked_at");
    upsert.bind(1, jti);
    bind_optional(upsert, 2, codec::to_db(expires_at));
    upsert.bind(3, reason);
    upsert.bind(4, static_cast<int64_t>(codec::to_db(now)));
    upsert.exec();
    SQLite::Statement query(
        c.db, "SELECT jti, expires_at, reason, revoked_at FROM revoked_jtis WHERE jti = ?");
    query.bind(1, jti);
    if (!query.executeStep()) return fail(Failure::unavailable, "revoke jti: row vanished");
    RevokedJti revoked{query.getColumn(0).getString(), optional_time(query.getColumn(1)),
                       query.getColumn(2).getString(),
                       codec::from_db(query.getColumn(3).getInt64())};
    query.reset();
    tx.commit();
    return revoked;
  });
}

Result<bool> SqliteStore::is_jti_revoked(const std::string& jti, Time now) {
  return with_connection("check jti", [&](Connection& c) -> Result<bool> {
    SQLite::Statement query(c.db,
                            "SELECT 1 FROM revoked_jtis WHERE jti = ? AND "
                            "(expires_at IS NULL OR expires_at > ?)");
    query.bind(1, jti);
    query.bind(2, static_cast<int64_t>(codec::to_db(now)));
    const bool revoked = query.executeStep();
    query.reset();
    return revoked;
  });
}

Result<std::size_t> SqliteStore::prune_revoked_jtis(Time now) {
  return with_connection("prune revoked jtis", [&](Connection& c) -> Result<std::size_t> {
    SQLite::Transaction tx(c.db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement prune(c.db, "DELETE FROM revoked_jtis WHERE expires_at <= ?");
    prune.bind(1, static_cast<int64_t>(codec::to_db(now)));
    const int removed = prune.exec();
    tx.commit();
    return static_cast<std::size_t>(removed);
  });
}

Result<void> SqliteStore::ping() {
  return with_connection("ping", [](Connection& c) -> Result<void> {
    c.db.execAndGet("SELECT 1");
    return {};
  });
}

Result<int> SqliteStore::schema_version() {
  return with_connection("schema version",
                         [](Connection& c) -> Result<int> { return read_schema_version(c.db); });
}

}  // namespace

Result<std::unique_ptr<TokenStore>> open_sqlite_store(const std::string& url) {
  auto path = sqlite_path(url);
  if (!path) return path.error();
  auto store = std::make_unique<SqliteStore>(*path);
  if (auto opened = store->open(); !opened) return opened.error();
  return std::unique_ptr<TokenStore>{std::move(store)};
}

}  // namespace mcpd::storage
