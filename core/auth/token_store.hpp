#pragma once
// Users, tokens and revoked JWT ids as the auth policy and the admin commands see them: the
// interface the storage backends implement (storage/token_store.hpp opens one by URL scheme;
// tests use an in-memory one). Every backend passes the same contract tests
// (tests/unit/storage/contract_token_store.cpp). Implementations are thread-safe: the daemon
// calls one store from several worker threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/auth/records.hpp"
#include "core/auth/store_result.hpp"

namespace mcpd::core::auth {

// last_used_at is written at most once per token per interval (the seed writes on every
// request; that turns every read into a write).
inline constexpr std::chrono::seconds k_usage_interval{60};

struct NewToken {
  std::int64_t user_id = 0;
  std::string name;
  std::string hash;   // TokenHasher::hash of the plaintext; the plaintext never reaches storage
  std::string last8;  // for the masked display
  std::vector<std::string> allowed_tools;
  std::optional<Time> expires_at;
};

// A JWT id refused until expires_at (the token's own exp; nullopt = kept for good). Rows whose
// expires_at has passed are pruned: the token they name is refused as expired anyway.
struct RevokedJti {
  std::string jti;
  std::optional<Time> expires_at;
  std::string reason;
  Time revoked_at{};
};

inline constexpr std::size_t k_max_jti_length = 256;
inline constexpr std::size_t k_max_revocation_reason_length = 500;

struct TokenFilter {
  std::optional<std::string> user_email;  // only this user's tokens
  bool include_inactive = false;          // also revoked and expired tokens
  Time now{};                             // the expiry cut-off when !include_inactive
};

// What a change notice names: "token:<id>", "user:<id>" or "jti" (never a secret), or "" when
// changes may have been missed (the backend was not listening for a while): forget everything.
using ChangeListener = std::function<void(const std::string& what)>;

class TokenStore {
 public:
  TokenStore() = default;
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;
  virtual ~TokenStore() = default;

  virtual std::string backend() const = 0;  // "sqlite", "postgresql" ("memory" in tests)

  // --- users (e-mail addresses are normalised: trimmed, lower-case) ---
  // conflict when the e-mail exists; invalid when it is not an address.
  virtual Result<User> add_user(const std::string& email, const std::string& name) = 0;
  virtual Result<User> get_user(const std::string& email) = 0;  // not_found
  virtual Result<std::vector<User>> list_users() = 0;           // by id
  virtual Result<User> set_user_active(const std::string& email, bool active) = 0;

  // --- tokens ---
  // not_found when user_id does not exist, conflict when the hash exists.
  virtual Result<Token> create_token(const NewToken& token) = 0;
  virtual Result<std::vector<Token>> list_tokens(const TokenFilter& filter) = 0;  // by id
  // Sets is_active = false. Revoking a revoked token succeeds and changes nothing.
  virtual Result<Token> revoke_token(std::int64_t id) = 0;
  virtual Result<TokenWithUser> find_by_hash(const std::string& hash) = 0;

  // Sets last_used_at = now, coalesced: skipped when the token was used (by anyone, as the
  // record shows, or by this process) less than k_usage_interval ago; the backends' UPDATE
  // repeats the check so concurrent processes write once too.
  Result<void> record_usage(const Token& token, Time now);

  // --- revoked JWT ids (every replica reads the same table) ---
  // Adds jti to the revoked list (invalid: empty or longer than k_max_jti_length). Revoking it
  // again keeps the later expiry (nullopt = never) and the new reason. Prunes expired rows.
  virtual Result<RevokedJti> revoke_jti(const std::string& jti, std::optional<Time> expires_at,
                                        const std::string& reason, Time now) = 0;
  // True while jti is listed and its expires_at (if any) is after now.
  virtual Result<bool> is_jti_revoked(const std::string& jti, Time now) = 0;
  // Deletes rows with expires_at <= now; returns how many.
  virtual Result<std::size_t> prune_revoked_jtis(Time now) = 0;

  // Readiness probe: one round trip.
  virtual Result<void> ping() = 0;

  // Highest applied schema migration.
  virtual Result<int> schema_version() = 0;

  // Calls `listener`, on a thread of the store's, whenever a user, a token or a revoked JWT id
  // changes in a way that can change an authentication answer, whoever made the change (another
  // replica, the CLI, psql), so that a cache of answers can forget them at once instead of at
  // the end of its lifetime. Once per store; watching ends when the store is destroyed. Returns
  // false when the backend has no such notices (SQLite: one host, and the cache lifetime bounds
  // how long an answer may be stale). PostgreSQL: LISTEN/NOTIFY on a dedicated connection.
  virtual bool watch_changes(ChangeListener listener) {
    (void)listener;
    return false;
  }

 protected:
  // UPDATE tokens SET last_used_at = now WHERE id = token_id AND
  //   (last_used_at IS NULL OR last_used_at <= now - k_usage_interval)
  virtual Result<void> write_last_used(std::int64_t token_id, Time now) = 0;

 private:
  std::mutex m_usage_mutex;
  std::unordered_map<std::int64_t, Time> m_usage_written;  // token id -> last write by us
};

}  // namespace mcpd::core::auth
