// The validation chain as pure logic: order of checks, what it looks up, what it records.
// (The same chain against real databases: tests/unit/storage/contract_token_store.cpp.)
#include <catch2/catch.hpp>
#include <map>

#include "core/auth/validation.hpp"

using namespace mcpd::core::auth;
using namespace std::chrono_literals;

namespace {

// An in-memory token table keyed by hash, with call counters.
struct Table {
  std::map<std::string, TokenWithUser> rows;
  bool down = false;
  int lookups = 0;
  int recorded = 0;

  std::string add(TokenWithUser row, const TokenHasher& hasher = {}) {
    auto plaintext = generate_token();
    rows[hasher.hash(plaintext)] = std::move(row);
    return plaintext;
  }
  Validation validate(const std::string& token, Time now, const TokenHasher& hasher = {}) {
    return validate_token(
        token, hasher, now,
        [&](const std::string& hash) {
          ++lookups;
          TokenLookup lookup;
          lookup.unavailable = down;
          if (auto it = rows.find(hash); !down && it != rows.end()) lookup.found = it->second;
          return lookup;
        },
        [&](const Token&, Time) { ++recorded; });
  }
};

TokenWithUser row(bool token_active = true, std::optional<Time> expires = std::nullopt,
                  bool user_active = true) {
  TokenWithUser r;
  r.token.id = 7;
  r.token.name = "laptop";
  r.token.is_active = token_active;
  r.token.expires_at = expires;
  r.token.allowed_tools = {"search"};
  r.user.email = "ada@example.com";
  r.user.is_active = user_active;
  return r;
}

const Time k_now = now_seconds();

}  // namespace

TEST_CASE("chain: a good token yields the identity and records usage", "[core][auth]") {
  Table table;
  const auto token = table.add(row());
  const auto v = table.validate(token, k_now);
  REQUIRE(v.ok());
  CHECK(table.recorded == 1);
  const auto identity = v.identity();
  CHECK(identity.valid);
  CHECK(identity.user == "ada@example.com");
  CHECK(identity.token_name == "laptop");
  CHECK(identity.allowed_tools == std::vector<std::string>{"search"});
}

TEST_CASE("chain: checks run in the seed's order", "[core][auth]") {
  Table table;
  const auto expired_past = k_now - 1s;
  CHECK(table.validate(table.add(row(false, expired_past, false)), k_now).failure ==
        AuthFailure::revoked);
  CHECK(table.validate(table.add(row(true, expired_past, false)), k_now).failure ==
        AuthFailure::expired);
  CHECK(table.validate(table.add(row(true, k_now + 1s, false)), k_now).failure ==
        AuthFailure::user_inactive);
  CHECK(table.validate(generate_token(), k_now).failure == AuthFailure::unknown);
  CHECK(table.recorded == 0);  // nothing recorded for refused tokens
}

TEST_CASE("chain: malformed tokens never reach storage", "[core][auth]") {
  Table table;
  const auto good = table.add(row());
  for (const std::string& bad :
       std::vector<std::string>{"", "Bearer", good.substr(1), good + "=", "mcpd_short"}) {
    CHECK(table.validate(bad, k_now).failure == AuthFailure::malformed);
  }
  CHECK(table.lookups == 0);
}

TEST_CASE("chain: storage down fails closed", "[core][auth]") {
  Table table;
  const auto token = table.add(row());
  table.down = true;
  const auto v = table.validate(token, k_now);
  CHECK(v.failure == AuthFailure::unavailable);
  CHECK_FALSE(v.identity().valid);
  CHECK(v.identity().invalid_reason == "storage unavailable");
  CHECK_FALSE(v.identity().can_use_tool("search"));
}

TEST_CASE("chain: failure labels and wording", "[core][auth]") {
  CHECK(std::string{reason_label(AuthFailure::user_inactive)} == "user_inactive");
  CHECK(std::string{reason_label(AuthFailure::malformed)} == "malformed");
  CHECK(std::string{describe(AuthFailure::revoked)} == "token revoked");
  CHECK(std::string{describe(AuthFailure::expired)} == "token expired");
}
