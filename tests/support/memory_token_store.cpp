#include "memory_token_store.hpp"

#include <algorithm>

namespace mcpd::test {

using core::auth::fail;
using core::auth::Failure;
using core::auth::Token;
using core::auth::User;

core::auth::StoreError MemoryTokenStore::down_error() const {
  return fail(Failure::unavailable, "the in-memory store is down");
}

Token MemoryTokenStore::with_email(Token token) const {
  if (auto it = m_users.find(token.user_id); it != m_users.end())
    token.user_email = it->second.email;
  return token;
}

MemoryTokenStore::Result<User> MemoryTokenStore::add_user(const std::string& email,
                                                          const std::string& name) {
  if (m_down) return down_error();
  if (auto problem = core::auth::check_email(email)) return fail(Failure::invalid, *problem);
  std::lock_guard lock(m_mutex);
  const auto normalized = core::auth::normalize_email(email);
  for (const auto& [id, user] : m_users)
    if (user.email == normalized)
      return fail(Failure::conflict, "user '" + normalized + "' already exists");
  User user;
  user.id = m_next_user++;
  user.email = normalized;
  user.name = name;
  user.created_at = user.updated_at = core::auth::now_seconds();
  m_users[user.id] = user;
  return user;
}

MemoryTokenStore::Result<User> MemoryTokenStore::get_user(const std::string& email) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto normalized = core::auth::normalize_email(email);
  for (const auto& [id, user] : m_users)
    if (user.email == normalized) return user;
  return fail(Failure::not_found, "user '" + normalized + "' not found");
}

MemoryTokenStore::Result<std::vector<User>> MemoryTokenStore::list_users() {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  std::vector<User> users;
  for (const auto& [id, user] : m_users) users.push_back(user);
  return users;
}

MemoryTokenStore::Result<User> MemoryTokenStore::set_user_active(const std::string& email,
                                                                 bool active) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto normalized = core::auth::normalize_email(email);
  for (auto& [id, user] : m_users) {
    if (user.email != normalized) continue;
    user.is_active = active;
    user.updated_at = core::auth::now_seconds();
    return user;
  }
  return fail(Failure::not_found, "user '" + normalized + "' not found");
}

MemoryTokenStore::Result<Token> MemoryTokenStore::create_token(const core::auth::NewToken& made) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  if (!m_users.contains(made.user_id))
    return fail(Failure::not_found, "user id " + std::to_string(made.user_id) + " not found");
  if (m_hashes.contains(made.hash))
    return fail(Failure::conflict, "a token with the same hash already exists");
  Token token;
  token.id = m_next_token++;
  token.user_id = made.user_id;
  token.name = made.name;
  token.last8 = made.last8;
  token.allowed_tools = made.allowed_tools;
  token.expires_at = made.expires_at;
  token.created_at = token.updated_at = core::auth::now_seconds();
  m_tokens[token.id] = token;
  m_hashes[made.hash] = token.id;
  return with_email(token);
}

MemoryTokenStore::Result<std::vector<Token>> MemoryTokenStore::list_tokens(
    const core::auth::TokenFilter& filter) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  std::vector<Token> tokens;
  for (const auto& [id, stored] : m_tokens) {
    Token token = with_email(stored);
    if (filter.user_email && token.user_email != core::auth::normalize_email(*filter.user_email))
      continue;
    if (!filter.include_inactive && (!token.is_active || token.expired(filter.now))) continue;
    tokens.push_back(std::move(token));
  }
  return tokens;
}

MemoryTokenStore::Result<Token> MemoryTokenStore::revoke_token(std::int64_t id) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto it = m_tokens.find(id);
  if (it == m_tokens.end())
    return fail(Failure::not_found, "token " + std::to_string(id) + " not found");
  if (it->second.is_active) {
    it->second.is_active = false;
    it->second.updated_at = core::auth::now_seconds();
  }
  return with_email(it->second);
}

MemoryTokenStore::Result<core::auth::TokenWithUser> MemoryTokenStore::find_by_hash(
    const std::string& hash) {
  ++m_lookups;
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto it = m_hashes.find(hash);
  if (it == m_hashes.end()) return fail(Failure::not_found, "no token with that hash");
  const Token& token = m_tokens.at(it->second);
  return core::auth::TokenWithUser{with_email(token), m_users.at(token.user_id)};
}

MemoryTokenStore::Result<core::auth::RevokedJti> MemoryTokenStore::revoke_jti(
    const std::string& jti, std::optional<Time> expires_at, const std::string& reason, Time now) {
  if (m_down) return down_error();
  if (jti.empty() || jti.size() > core::auth::k_max_jti_length)
    return fail(Failure::invalid, "jti must be 1-256 characters");
  (void)prune_revoked_jtis(now);
  std::lock_guard lock(m_mutex);
  auto& entry = m_jtis[jti];
  const bool existed = !entry.jti.empty();
  if (existed && (!entry.expires_at || (expires_at && *entry.expires_at > *expires_at)))
    expires_at = entry.expires_at;  // keep the later expiry (nullopt = never)
  entry = core::auth::RevokedJti{jti, expires_at, reason, now};
  return entry;
}

MemoryTokenStore::Result<bool> MemoryTokenStore::is_jti_revoked(const std::string& jti, Time now) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto it = m_jtis.find(jti);
  return it != m_jtis.end() && (!it->second.expires_at || *it->second.expires_at > now);
}

MemoryTokenStore::Result<std::size_t> MemoryTokenStore::prune_revoked_jtis(Time now) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  return static_cast<std::size_t>(std::erase_if(m_jtis, [&](const auto& entry) {
    return entry.second.expires_at && *entry.second.expires_at <= now;
  }));
}

MemoryTokenStore::Result<void> MemoryTokenStore::ping() {
  if (m_down) return down_error();
  return {};
}

MemoryTokenStore::Result<int> MemoryTokenStore::schema_version() {
  if (m_down) return down_error();
  return 0;
}

std::optional<MemoryTokenStore::Time> MemoryTokenStore::last_used(std::int64_t token_id) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_tokens.find(token_id);
  if (it == m_tokens.end()) return std::nullopt;
  return it->second.last_used_at;
}

MemoryTokenStore::Result<void> MemoryTokenStore::write_last_used(std::int64_t token_id, Time now) {
  if (m_down) return down_error();
  std::lock_guard lock(m_mutex);
  const auto it = m_tokens.find(token_id);
  if (it == m_tokens.end()) return fail(Failure::not_found, "no such token");
  auto& last = it->second.last_used_at;
  if (last && now - *last < core::auth::k_usage_interval) return {};
  last = now;
  ++m_usage_writes;
  return {};
}

}  // namespace mcpd::test
