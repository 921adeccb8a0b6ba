#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <vector>

#include "storage/cached_authenticator.hpp"
#include "storage/token_service.hpp"

using namespace mcpd;
using namespace mcpd::storage;
using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;

namespace {

// A fresh SQLite database in its own temporary directory, with one user and an injected clock.
struct Fixture {
  std::filesystem::path dir;
  std::string db_path;
  std::shared_ptr<TokenStore> store;
  core::auth::TokenHasher hasher;
  SystemClock::time_point now = std::chrono::floor<std::chrono::seconds>(SystemClock::now());

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mcpd-auth-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    db_path = (dir / "mcpd.db").string();
    auto opened = open_store("sqlite://" + db_path);
    REQUIRE(opened);
    store = std::move(*opened);
    REQUIRE(store->add_user("alice@example.com", "Alice"));
  }
  ~Fixture() {
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  CachedAuthenticator authenticator(AuthCacheOptions options = {}) {
    return CachedAuthenticator(store, hasher, options, [this] { return now; });
  }

  IssuedToken issue(std::vector<std::string> tools = {}, std::optional<int> days = {}) {
    TokenRequest request;
    request.user_email = "alice@example.com";
    request.name = "laptop-" + std::to_string(++issued);
    request.allowed_tools = std::move(tools);
    request.expires_days = days;
    auto token = issue_token(*store, hasher, request, core::auth::now_seconds());
    REQUIRE(token);
    return std::move(*token);
  }

  // Makes every token lookup fail (as when the database is unusable), then undoes it.
  void break_storage() {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE tokens RENAME TO tokens_away");
  }
  void repair_storage() {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE tokens_away RENAME TO tokens");
  }

  int issued = 0;
};

// A token with a different character: the checksum no longer matches.
std::string with_typo(std::string token) {
  char& c = token[core::auth::k_token_prefix.size() + 3];
  c = c == 'a' ? 'b' : 'a';
  return token;
}

}  // namespace

TEST_CASE("a valid token yields its identity", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue({"echo", "search"});
  const auto outcome = auth.authenticate(token.plaintext);
  REQUIRE(outcome.identity);
  CHECK(outcome.reason.empty());
  CHECK_FALSE(outcome.storage_unavailable);
  CHECK(outcome.identity->valid);
  CHECK(outcome.identity->user == "alice@example.com");
  CHECK(outcome.identity->token_name == token.token.name);
  CHECK(outcome.identity->allowed_tools == std::vector<std::string>{"echo", "search"});
  CHECK(outcome.identity->can_use_tool("echo"));
  CHECK_FALSE(outcome.identity->can_use_tool("delete"));
}

TEST_CASE("missing and malformed credentials are refused without a lookup", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  // With storage broken, a lookup would say "unavailable": these never get that far.
  f.break_storage();
  CHECK(auth.authenticate("").reason == "missing");
  for (const std::string bad :
       {std::string("garbage"), std::string("Bearer ") + token.plaintext,
        with_typo(token.plaintext), token.plaintext.substr(0, token.plaintext.size() - 1),
        token.plaintext + "x", "sk_" + token.plaintext.substr(5)}) {
    INFO(bad);
    const auto outcome = auth.authenticate(bad);
    CHECK_FALSE(outcome.identity);
    CHECK(outcome.reason == "malformed");
    CHECK_FALSE(outcome.storage_unavailable);
  }
  CHECK(auth.size() == 0);
  f.repair_storage();
}

TEST_CASE("revocation is honoured within the TTL", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth.authenticate(token.plaintext).identity);
  REQUIRE(f.store->revoke_token(token.token.id));

  // The answer cached a moment ago still stands...
  f.now += 1s;
  CHECK(auth.authenticate(token.plaintext).identity);
  // ...but not past the TTL.
  f.now += 1001ms;
  const auto refused = auth.authenticate(token.plaintext);
  CHECK_FALSE(refused.identity);
  CHECK(refused.reason == "revoked");
  CHECK_FALSE(refused.storage_unavailable);
  // The refusal is remembered too, and the TTL is within PRODUCT's 5 s.
  CHECK(auth.size() == 1);
  CHECK(AuthCacheOptions{}.ttl <= 5s);
}

TEST_CASE("refusals are cached for the TTL too", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const std::string plaintext = core::auth::generate_token();
  CHECK(auth.authenticate(plaintext).reason == "unknown");

  // The token appears in storage (as if created by another replica).
  NewToken created;
  created.user_id = f.store->get_user("alice@example.com")->id;
  created.name = "late";
  created.hash = f.hasher.hash(plaintext);
  created.last8 = core::auth::last8_of(plaintext);
  REQUIRE(f.store->create_token(created));

  f.now += 1500ms;
  CHECK(auth.authenticate(plaintext).reason == "unknown");
  f.now += 600ms;
  const auto outcome = auth.authenticate(plaintext);
  REQUIRE(outcome.identity);
  CHECK(outcome.identity->token_name == "late");
}

TEST_CASE("a disabled user is refused and an enabled one comes back", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(f.store->set_user_active("alice@example.com", false));
  CHECK(auth.authenticate(token.plaintext).reason == "user_inactive");
  REQUIRE(f.store->set_user_active("alice@example.com", true));
  f.now += 2s;
  CHECK(auth.authenticate(token.plaintext).identity);
}

TEST_CASE("a cached success never outlives the token's expiry", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue({}, 1);
  REQUIRE(token.token.expires_at);
  const SystemClock::time_point expiry = *token.token.expires_at;

  f.now = expiry - 1s;
  REQUIRE(auth.authenticate(token.plaintext).identity);
  f.now = expiry;  // within the TTL of the answer above
  const auto refused = auth.authenticate(token.plaintext);
  CHECK_FALSE(refused.identity);
  CHECK(refused.reason == "expired");
}

TEST_CASE("storage failures fail closed and are not cached", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto cached = f.issue();
  const auto other = f.issue();
  REQUIRE(auth.authenticate(cached.plaintext).identity);

  f.break_storage();
  const auto outcome = auth.authenticate(other.plaintext);
  CHECK_FALSE(outcome.identity);
  CHECK(outcome.reason == "unavailable");
  CHECK(outcome.storage_unavailable);
  // An answer cached before the outage is still served for its TTL.
  CHECK(auth.authenticate(cached.plaintext).identity);

  // Recovery is immediate: the failure was not remembered.
  f.repair_storage();
  CHECK(auth.authenticate(other.plaintext).identity);
}

TEST_CASE("a clock stepping back does not extend cached answers", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth.authenticate(token.plaintext).identity);
  REQUIRE(f.store->revoke_token(token.token.id));
  f.now -= 10s;
  CHECK(auth.authenticate(token.plaintext).reason == "revoked");
}

TEST_CASE("the cache is bounded", "[storage][auth]") {
  Fixture f;
  AuthCacheOptions options;
  options.max_entries = 3;
  auto auth = f.authenticator(options);
  for (int i = 0; i < 20; ++i) {
    CHECK(auth.authenticate(core::auth::generate_token()).reason == "unknown");
    CHECK(auth.size() <= 3);
  }
  const auto token = f.issue();
  CHECK(auth.authenticate(token.plaintext).identity);
  CHECK(auth.size() == 3);
  // Stale answers are dropped when new ones come in.
  f.now += 3s;
  CHECK(auth.authenticate(core::auth::generate_token()).reason == "unknown");
  CHECK(auth.size() == 1);
  auth.clear();
  CHECK(auth.size() == 0);

  AuthCacheOptions off;
  off.max_entries = 0;
  auto uncached = f.authenticator(off);
  CHECK(uncached.authenticate(token.plaintext).identity);
  CHECK(uncached.size() == 0);
}

TEST_CASE("a peppered hasher finds only tokens hashed with the pepper", "[storage][auth]") {
  Fixture f;
  const auto token = f.issue();  // stored with plain SHA-256
  CachedAuthenticator peppered(f.store, core::auth::TokenHasher("pepper-outside-the-db"));
  CHECK(peppered.authenticate(token.plaintext).reason == "unknown");
}

TEST_CASE("worker threads share one authenticator", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  std::vector<IssuedToken> tokens;
  for (int i = 0; i < 4; ++i) tokens.push_back(f.issue());
  REQUIRE(f.store->revoke_token(tokens[3].token.id));

  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto& token = tokens[(t + i) % 4];
        const auto outcome = auth.authenticate(token.plaintext);
        const bool revoked = token.token.id == tokens[3].token.id;
        if (revoked ? (outcome.identity || outcome.reason != "revoked")
                    : (!outcome.identity || outcome.identity->token_name != token.token.name)) {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
  CHECK(auth.size() == 4);
}

// try_cached is what the HTTP transport asks on its I/O threads before it posts a lookup.
TEST_CASE("try_cached answers from the cache only, never from storage", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();

  // Refusals that need no storage are answered inline and take no cache slot.
  CHECK(auth.try_cached("")->reason == "missing");
  CHECK(auth.try_cached("garbage")->reason == "malformed");
  CHECK(auth.try_cached(with_typo(token.plaintext))->reason == "malformed");
  CHECK(auth.size() == 0);

  // A miss says nothing rather than reaching storage.
  CHECK_FALSE(auth.try_cached(token.plaintext));
  CHECK(auth.size() == 0);

  // A hit returns what authenticate() stored, even once storage has changed...
  REQUIRE(auth.authenticate(token.plaintext).identity);
  REQUIRE(f.store->revoke_token(token.token.id));
  f.now += 1999ms;
  const auto hit = auth.try_cached(token.plaintext);
  REQUIRE(hit);
  REQUIRE(hit->identity);
  CHECK(hit->identity->token_name == token.token.name);
  // ...but only for the TTL: then it is a miss, and the lookup finds the revocation.
  f.now += 1ms;
  CHECK_FALSE(auth.try_cached(token.plaintext));
  CHECK(auth.authenticate(token.plaintext).reason == "revoked");
  const auto refused = auth.try_cached(token.plaintext);
  REQUIRE(refused);
  CHECK(refused->reason == "revoked");
  CHECK_FALSE(refused->identity);
}

TEST_CASE("try_cached never serves a success past the token's expiry", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue({}, 1);
  REQUIRE(token.token.expires_at);
  f.now = *token.token.expires_at - 1s;
  REQUIRE(auth.authenticate(token.plaintext).identity);
  CHECK(auth.try_cached(token.plaintext));
  f.now = *token.token.expires_at;  // within the TTL, past the expiry
  CHECK_FALSE(auth.try_cached(token.plaintext));
}

TEST_CASE("try_cached does not remember storage failures", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  f.break_storage();
  CHECK(auth.authenticate(token.plaintext).storage_unavailable);
  CHECK_FALSE(auth.try_cached(token.plaintext));
  f.repair_storage();
  CHECK(auth.authenticate(token.plaintext).identity);
  CHECK(auth.try_cached(token.plaintext));
}

TEST_CASE("try_cached readers and writers share the cache across threads", "[storage][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth.authenticate(token.plaintext).identity);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (t % 2 == 0) {
          const auto hit = auth.try_cached(token.plaintext);
          if (!hit || !hit->identity) ++wrong[t];
        } else if (auth.authenticate(core::auth::generate_token()).reason != "unknown") {
          ++wrong[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
}
