#pragma once
// A TokenStore in memory, for unit tests of the auth policy and the HTTP auth gate without a
// database. It keeps the contract's observable rules (normalised e-mails, unique hashes,
// coalesced usage writes, revoked jtis with their expiry) and lets a test take storage down and
// count what reached it. Thread-safe.

#include <atomic>
#include <map>
#include <mutex>

#include "core/auth/token_store.hpp"

namespace mcpd::test {

class MemoryTokenStore final : public core::auth::TokenStore {
 public:
  using Time = core::auth::Time;
  template <class T>
  using Result = core::auth::Result<T>;

  std::string backend() const override { return "memory"; }

  Result<core::auth::User> add_user(const std::string& email, const std::string& name) override;
  Result<core::auth::User> get_user(const std::string& email) override;
  Result<std::vector<core::auth::User>> list_users() override;
  Result<core::auth::User> set_user_active(const std::string& email, bool active) override;

  Result<core::auth::Token> create_token(const core::auth::NewToken& token) override;
  Result<std::vector<core::auth::Token>> list_tokens(
      const core::auth::TokenFilter& filter) override;
  Result<core::auth::Token> revoke_token(std::int64_t id) override;
  Result<core::auth::TokenWithUser> find_by_hash(const std::string& hash) override;

  Result<core::auth::RevokedJti> revoke_jti(const std::string& jti, std::optional<Time> expires_at,
                                            const std::string& reason, Time now) override;
  Result<bool> is_jti_revoked(const std::string& jti, Time now) override;
  Result<std::size_t> prune_revoked_jtis(Time now) override;

  Result<void> ping() override;
  Result<int> schema_version() override;

  // --- for tests ---
  // While down, every call fails with Failure::unavailable (a database that went away).
  void set_down(bool down) { m_down = down; }
  // Calls that reached the token table through find_by_hash, and last_used_at writes.
  int lookups() const { return m_lookups; }
  int usage_writes() const { return m_usage_writes; }
  // The token's last_used_at as stored.
  std::optional<Time> last_used(std::int64_t token_id) const;

 protected:
  Result<void> write_last_used(std::int64_t token_id, Time now) override;

 private:
  core::auth::StoreError down_error() const;
  core::auth::Token with_email(core::auth::Token token) const;  // requires m_mutex

  mutable std::mutex m_mutex;
  std::map<std::int64_t, core::auth::User> m_users;  // by id
  std::map<std::int64_t, core::auth::Token> m_tokens;
  std::map<std::string, std::int64_t> m_hashes;  // hash -> token id
  std::map<std::string, core::auth::RevokedJti> m_jtis;
  std::int64_t m_next_user = 1;
  std::int64_t m_next_token = 1;
  std::atomic<bool> m_down{false};
  std::atomic<int> m_lookups{0};
  std::atomic<int> m_usage_writes{0};
};

}  // namespace mcpd::test
