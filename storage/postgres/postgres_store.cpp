#include "storage/postgres/postgres_store.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <type_traits>

#include "storage/codec.hpp"
#include "storage/database_url.hpp"
#include "storage/migrations.hpp"
#include "storage/pool.hpp"
#include "storage/postgres/change_watcher.hpp"
#include "storage/store_checks.hpp"

namespace mcpd::storage {
namespace {

using core::auth::now_seconds;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t k_pool_size = 4;
constexpr auto k_pool_wait = 10s;
constexpr auto k_backoff_min = 250ms;
constexpr auto k_backoff_max = 5s;
// pg_advisory_xact_lock key serialising migrations across processes ("mcpd" in ASCII).
constexpr long k_migration_lock = 0x6d637064;

constexpr const char* k_user_columns =
    "u.id, u.email, u.name, u.is_active, u.created_at, u.updated_at";
constexpr const char* k_token_columns =
    "t.id, t.user_id, u.email, t.name, t.last8, t.is_active, t.allowed_tools, t.expires_at, "
    "t.last_used_at, t.created_at, t.updated_at";
constexpr pqxx::row::size_type k_token_column_count = 11;

std::string select_tokens(const std::string& where) {
  return std::string{"SELECT "} + k_token_columns + ", " + k_user_columns +
         " FROM tokens t JOIN users u ON u.id = t.user_id " + where;
}

// libpq messages span lines ("...\n\tIs the server running..."): one line for the CLI.
std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  text.erase(
      std::unique(text.begin(), text.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
      text.end());
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

bool has_param(const std::string& url, const std::string& name) {
  const auto query = url.find('?');
  if (query == std::string::npos) return false;
  for (auto pos = url.find(name + "=", query); pos != std::string::npos;
       pos = url.find(name + "=", pos + 1)) {
    if (url[pos - 1] == '?' || url[pos - 1] == '&') return true;
  }
  return false;
}

// Defaults that keep a dead or unreachable server from hanging a caller.
std::string conninfo_for(const std::string& url) {
  std::string conninfo = url;
  const std::pair<const char*, const char*> defaults[] = {
      {"connect_timeout", "5"},
      {"application_name", "mcpd"},
      {"keepalives_idle", "30"},
      {"tcp_user_timeout", "30000"},
  };
  for (const auto& [name, value] : defaults) {
    if (has_param(conninfo, name)) continue;
    conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
    conninfo += std::string{name} + "=" + value;
  }
  return conninfo;
}

std::optional<core::auth::Time> optional_time(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return codec::from_db(field.as<long>());
}

User read_user(const pqxx::row& row, pqxx::row::size_type first) {
  User user;
  user.id = row[first].as<long>();
  user.email = row[first + 1].as<std::string>();
  user.name = row[first + 2].as<std::string>();
  user.is_active = row[first + 3].as<bool>();
  user.created_at = codec::from_db(row[first + 4].as<long>());
  user.updated_at = codec::from_db(row[first + 5].as<long>());
  return user;
}

Token read_token(const pqxx::row& row) {
  Token token;
  token.id = row[0].as<long>();
  token.user_id = row[1].as<long>();
  token.user_email = row[2].as<std::string>();
  token.name = row[3].as<std::string>();
  token.last8 = row[4].as<std::string>();
  token.is_active = row[5].as<bool>();
  token.allowed_tools = codec::decode_tools(row[6].as<std::string>());
  token.expires_at = optional_time(row[7]);
  token.last_used_at = optional_time(row[8]);
  token.created_at = codec::from_db(row[9].as<long>());
  token.updated_at = codec::from_db(row[10].as<long>());
  return token;
}

struct Connection {
  pqxx::connection connection;

  explicit Connection(const std::string& conninfo) : connection(conninfo) {
    connection.set_variable("client_min_messages", "warning");
    connection.set_variable("statement_timeout", "15000");
    connection.prepare("find_by_hash", select_tokens("WHERE t.token_hash = $1"));
  }
};

// Connection-class SQLSTATEs (08xxx) and server shutdown (57P0x) mean this connection is gone.
bool connection_lost(const std::string& sqlstate) {
  return sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0;
}

class PostgresStore final : public TokenStore {
 public:
  PostgresStore(std::string conninfo, std::string display_url)
      : m_conninfo(std::move(conninfo)), m_display_url(std::move(display_url)) {}

  Result<void> open();

  std::string backend() const override { return "postgresql"; }
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
  bool watch_changes(core::auth::ChangeListener listener) override;

 protected:
  Result<void> write_last_used(std::int64_t token_id, Time now) override;

 private:
  // Runs f on a pooled connection. When the connection turns out to be dead, f runs once more
  // on a new one: that is safe for writes too, because a transaction that lost its connection
  // before COMMIT was rolled back, and a loss during COMMIT is in_doubt_error, never retried.
  template <class F>
  std::invoke_result_t<F, pqxx::connection&> with_connection(const std::string& what, F&& f);
  Result<std::unique_ptr<Connection>> connect();
  Result<void> migrate(pqxx::connection& connection);
  static Result<Token> token_by_id(pqxx::work& work, std::int64_t id);
  static Result<User> user_by_email(pqxx::work& work, const std::string& email);

  std::string m_conninfo;
  std::string m_display_url;  // password redacted
  Pool<Connection> m_pool{k_pool_size};

  std::mutex m_backoff_mutex;
  SteadyClock::time_point m_retry_at{};
  std::chrono::milliseconds m_backoff{0};
  std::string m_last_error;

  std::unique_ptr<postgres::ChangeWatcher> m_watcher;  // LISTEN mcpd_auth, once asked to
};

Result<std::unique_ptr<Connection>> PostgresStore::connect() {
  {
    std::lock_guard lock(m_backoff_mutex);
    if (SteadyClock::now() < m_retry_at)
      return fail(Failure::unavailable, m_display_url + ": " + m_last_error);
  }
  try {
    auto connection = std::make_unique<Connection>(m_conninfo);
    std::lock_guard lock(m_backoff_mutex);
    m_backoff = 0ms;
    m_retry_at = {};
    return connection;
  } catch (const std::exception& e) {
    std::lock_guard lock(m_backoff_mutex);
    m_backoff = std::clamp(m_backoff * 2, std::chrono::milliseconds{k_backoff_min},
                           std::chrono::milliseconds{k_backoff_max});
    m_retry_at = SteadyClock::now() + m_backoff;
    m_last_error = one_line(e.what());
    return fail(Failure::unavailable, m_display_url + ": " + m_last_error);
  }
}

template <class F>
std::invoke_result_t<F, pqxx::connection&> PostgresStore::with_connection(const std::string& what,
                                                                          F&& f) {
  auto lease = m_pool.acquire(k_pool_wait);
  if (!lease) return fail(Failure::unavailable, what + ": every database connection is busy");
  auto& slot = lease->connection();
  // A retry runs on the same slot with a new connection: the pool's other connections are
  // likely just as dead (a server restart breaks them all).
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = attempt == 0;
    if (!slot) {
      auto connected = connect();
      if (!connected) return connected.error();
      slot = std::move(*connected);
    }
    try {
      return f(slot->connection);
    } catch (const pqxx::broken_connection& e) {
      slot.reset();
      if (may_retry) continue;
      return fail(Failure::unavailable, what + ": connection lost: " + one_line(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      slot.reset();
      return fail(Failure::unavailable, what + ": " + one_line(e.what()));
    } catch (const pqxx::unique_violation& e) {
      return fail(Failure::conflict, what + ": " + one_line(e.what()));
    } catch (const pqxx::foreign_key_violation& e) {
      return fail(Failure::not_found, what + ": " + one_line(e.what()));
    } catch (const pqxx::sql_error& e) {
      if (connection_lost(e.sqlstate())) {
        slot.reset();
        if (may_retry) continue;
        return fail(Failure::unavailable, what + ": connection lost: " + one_line(e.what()));
      }
      const bool transient = e.sqlstate().rfind("53", 0) == 0 || e.sqlstate() == "57014" ||
                             e.sqlstate() == "40001" || e.sqlstate() == "40P01";
      return fail(transient ? Failure::unavailable : Failure::invalid,
                  what + ": " + one_line(e.what()));
    } catch (const std::exception& e) {
      return fail(Failure::invalid, what + ": " + one_line(e.what()));
    }
  }
}

Result<void> PostgresStore::open() {
  return with_connection("open", [&](pqxx::connection& c) { return migrate(c); });
}

Result<void> PostgresStore::migrate(pqxx::connection& connection) {
  const int latest = latest_schema_version();
  auto read_version = [](pqxx::transaction_base& tx) {
    if (tx.exec1("SELECT to_regclass('schema_version') IS NULL")[0].as<bool>()) return 0;
    return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0].as<int>();
  };
  int current = 0;
  {
    pqxx::read_transaction check(connection);
    current = read_version(check);
  }
  if (current == latest) return {};
  // DDL is transactional here: the advisory lock makes concurrent first opens take turns.
  pqxx::work tx(connection);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", k_migration_lock);
  tx.exec(std::string{k_schema_version_table_postgresql});
  current = read_version(tx);
  if (current > latest) {
    return fail(Failure::invalid, "database schema version " + std::to_string(current) +
                                      " is newer than this mcpd supports (" +
                                      std::to_string(latest) + ")");
  }
  for (const auto& migration : migrations()) {
    if (migration.version <= current) continue;
    tx.exec(std::string{migration.postgresql});
    tx.exec_params(
        "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)",
        migration.version, std::string{migration.description}, codec::to_db(now_seconds()));
  }
  tx.commit();
  return {};
}

Result<Token> PostgresStore::token_by_id(pqxx::work& work, std::int64_t id) {
  const auto rows = work.exec_params(select_tokens("WHERE t.id = $1"), id);
  if (rows.empty()) return fail(Failure::not_found, "token " + std::to_string(id) + " not found");
  return read_token(rows[0]);
}

Result<User> PostgresStore::user_by_email(pqxx::work& work, const std::string& email) {
  const auto rows = work.exec_params(
      std::string{"SELECT "} + k_user_columns + " FROM users u WHERE u.email = $1", email);
  if (rows.empty()) return fail(Failure::not_found, "user '" + email + "' not found");
  return read_user(rows[0], 0);
}

Result<User> PostgresStore::add_user(const std::string& email, const std::string& name) {
  if (auto invalid = checks::new_user(email, name)) return *invalid;
  const auto normalized = core::auth::normalize_email(email);
  auto result = with_connection("add user", [&](pqxx::connection& c) -> Result<User> {
    pqxx::work tx(c);
    const auto now = codec::to_db(now_seconds());
    tx.exec_params(
        "INSERT INTO users (email, name, is_active, created_at, updated_at) "
        "VALUES ($1, $2, TRUE, $3, $3)",
        normalized, name, now);
    auto user = user_by_email(tx, normalized);
    tx.commit();
    return user;
  });
  return checks::explain_user_conflict(std::move(result), normalized);
}

Result<User> PostgresStore::get_user(const std::string& email) {
  return with_connection("get user", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    return user_by_email(tx, core::auth::normalize_email(email));
  });
}

Result<std::vector<User>> PostgresStore::list_users() {
  return with_connection("list users", [&](pqxx::connection& c) -> Result<std::vector<User>> {
    pqxx::read_transaction tx(c);
    const auto rows =
        tx.exec(std::string{"SELECT "} + k_user_columns + " FROM users u ORDER BY u.id");
    std::vector<User> users;
    for (const auto& row : rows) users.push_back(read_user(row, 0));
    return users;
  });
}

Result<User> PostgresStore::set_user_active(const std::string& email, bool active) {
  const auto normalized = core::auth::normalize_email(email);
  return with_connection("set user active", [&](pqxx::connection& c) -> Result<User> {
    pqxx::work tx(c);
    const auto updated = tx.exec_params(
        "UPDATE users SET updated_at = CASE WHEN is_active = $1 THEN "
        "updated_at ELSE $2 END, is_active = $1 WHERE email = $3",
        active, codec::to_db(now_seconds()), normalized);
    if (updated.affected_rows() == 0)
      return fail(Failure::not_found, "user '" + normalized + "' not found");
    auto user = user_by_email(tx, normalized);
    tx.commit();
    return user;
  });
}

Result<Token> PostgresStore::create_token(const NewToken& token) {
  if (auto invalid = checks::new_token(token)) return *invalid;
  auto result = with_connection("create token", [&](pqxx::connection& c) -> Result<Token> {
    pqxx::work tx(c);
    const auto now = codec::to_db(now_seconds());
    const auto id =
        tx.exec_params1(
              "INSERT INTO tokens (user_id, name, token_hash, last8, is_active, allowed_tools, "
              "expires_at, last_used_at, created_at, updated_at) "
              "VALUES ($1, $2, $3, $4, TRUE, $5, $6, NULL, $7, $7) RETURNING id",
              token.user_id, token.name, token.hash, token.last8,
              codec::encode_tools(token.allowed_tools), codec::to_db(token.expires_at), now)[0]
            .as<long>();
    auto created = token_by_id(tx, id);
    tx.commit();
    return created;
  });
  return checks::explain_token_conflict(std::move(result), token.user_id);
}

Result<std::vector<Token>> PostgresStore::list_tokens(const TokenFilter& filter) {
  std::optional<std::string> email;
  if (filter.user_email) email = core::auth::normalize_email(*filter.user_email);
  return with_connection("list tokens", [&](pqxx::connection& c) -> Result<std::vector<Token>> {
    pqxx::read_transaction tx(c);
    const auto rows = tx.exec_params(
        select_tokens("WHERE ($1::text IS NULL OR u.email = $1) AND ($2::boolean OR "
                      "(t.is_active AND (t.expires_at IS NULL OR t.expires_at > $3))) "
                      "ORDER BY t.id"),
        email, filter.include_inactive, codec::to_db(filter.now));
    std::vector<Token> tokens;
    for (const auto& row : rows) tokens.push_back(read_token(row));
    return tokens;
  });
}

Result<Token> PostgresStore::revoke_token(std::int64_t id) {
  return with_connection("revoke token", [&](pqxx::connection& c) -> Result<Token> {
    pqxx::work tx(c);
    const auto updated = tx.exec_params(
        "UPDATE tokens SET updated_at = CASE WHEN is_active THEN $1 ELSE updated_at END, "
        "is_active = FALSE WHERE id = $2",
        codec::to_db(now_seconds()), id);
    if (updated.affected_rows() == 0)
      return fail(Failure::not_found, "token " + std::to_string(id) + " not found");
    auto token = token_by_id(tx, id);
    tx.commit();
    return token;
  });
}

Result<TokenWithUser> PostgresStore::find_by_hash(const std::string& hash) {
  return with_connection("find token", [&](pqxx::connection& c) -> Result<TokenWithUser> {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_prepared("find_by_hash", hash);
    if (rows.empty()) return fail(Failure::not_found, "no token with that hash");
    return TokenWithUser{read_token(rows[0]), read_user(rows[0], k_token_column_count)};
  });
}

Result<void> PostgresStore::write_last_used(std::int64_t token_id, Time now) {
  return with_connection("record token usage", [&](pqxx::connection& c) -> Result<void> {
    pqxx::nontransaction tx(c);
    tx.exec_params(
        "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND "
        "(last_used_at IS NULL OR last_used_at <= $3)",
        codec::to_db(now), token_id, codec::to_db(now - k_usage_interval));
    return {};
  });
}

Result<RevokedJti> PostgresStore::revoke_jti(const std::string& jti, std::optional<Time> expires_at,
                                             const std::string& reason, Time now) {
  if (auto invalid = checks::revoked_jti(jti, reason)) return *invalid;
  return with_connection("revoke jti", [&](pqxx::connection& c) -> Result<RevokedJti> {
    pqxx::work tx(c);
    tx.exec_params("DELETE FROM revoked_jtis WHERE expires_at <= $1", codec::to_db(now));
    // A second revocation never shortens the first: the later expiry wins, NULL (never) most.
    const auto row = tx.exec_params1(
        "INSERT INTO revoked_jtis (jti, expires_at, reason, revoked_at) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (jti) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at IS NULL OR "
        "revoked_jtis.expires_at IS NULL THEN NULL ELSE GREATEST(excluded.expires_at, "
        "revoked_jtis.expires_at) END, reason = excluded.reason, revoked_at = excluded.revoked_at "
        "RETURNING jti, expires_at, reason, revoked_at",
        jti, codec::to_db(expires_at), reason, codec::to_db(now));
    RevokedJti revoked{row[0].as<std::string>(), optional_time(row[1]), row[2].as<std::string>(),
                       codec::from_db(row[3].as<long>())};
    tx.commit();
    return revoked;
  });
}

Result<bool> PostgresStore::is_jti_revoked(const std::string& jti, Time now) {
  return with_connection("check jti", [&](pqxx::connection& c) -> Result<bool> {
    pqxx::nontransaction tx(c);
    const auto rows = tx.exec_params(
        "SELECT 1 FROM revoked_jtis WHERE jti = $1 AND (expires_at IS NULL OR expires_at > $2)",
        jti, codec::to_db(now));
    return !rows.empty();
  });
}

Result<std::size_t> PostgresStore::prune_revoked_jtis(Time now) {
  return with_connection("prune revoked jtis", [&](pqxx::connection& c) -> Result<std::size_t> {
    pqxx::nontransaction tx(c);
    const auto removed =
        tx.exec_params("DELETE FROM revoked_jtis WHERE expires_at <= $1", codec::to_db(now));
    return static_cast<std::size_t>(removed.affected_rows());
  });
}

Result<void> PostgresStore::ping() {
  return with_connection("ping", [](pqxx::connection& c) -> Result<void> {
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
    return {};
  });
}

Result<int> PostgresStore::schema_version() {
  return with_connection("schema version", [](pqxx::connection& c) -> Result<int> {
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0].as<int>();
  });
}

bool PostgresStore::watch_changes(core::auth::ChangeListener listener) {
  m_watcher.reset();
  m_watcher =
      std::make_unique<postgres::ChangeWatcher>(m_conninfo, m_display_url, std::move(listener));
  return true;
}

}  // namespace

Result<std::unique_ptr<TokenStore>> open_postgres_store(const std::string& url) {
  auto store = std::make_unique<PostgresStore>(conninfo_for(url), redact_url(url));
  if (auto opened = store->open(); !opened) return opened.error();
  return std::unique_ptr<TokenStore>{std::move(store)};
}

}  // namespace mcpd::storage
