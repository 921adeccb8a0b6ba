// The authentication policy (core/auth/authenticator.hpp) on the in-memory TokenStore: the
// opaque-token chain in its order, JWTs beside opaque tokens, allow-lists, the one cache (hits,
// lifetime, expiry, bounds) under an injected clock, storage failures, the stdio session's view,
// and the one table of refusals. The same chain against SQLite and PostgreSQL:
// tests/unit/storage/contract_token_store.cpp.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/auth/token_service.hpp"
#include "core/config/config.hpp"
#include "core/config/error.hpp"
#include "core/observability/metrics.hpp"
#include "memory_token_store.hpp"
#include "test_jwt_support.hpp"

using namespace mcpd;
using namespace mcpd::core::auth;
using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;
using test::json;

namespace {

struct Fixture {
  std::shared_ptr<test::MemoryTokenStore> store = std::make_shared<test::MemoryTokenStore>();
  SystemClock::time_point now = std::chrono::floor<std::chrono::seconds>(SystemClock::now());
  std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  int issued = 0;

  Fixture() { REQUIRE(store->add_user("alice@example.com", "Alice")); }

  Authenticator::Clock clock() {
    return [this] { return now; };
  }

  std::shared_ptr<Authenticator> authenticator(AuthCacheOptions cache = {}, bool with_jwt = true,
                                               TokenHasher hasher = {}) {
    Authenticator::Options options;
    options.hasher = std::move(hasher);
    options.cache = cache;
    options.clock = clock();
    if (with_jwt) options.jwt = JwtVerifier({"HS256", test::k_secret, ""}, {}, clock());
    return std::make_shared<Authenticator>(store, std::move(options));
  }
  // Every answer from storage: nothing is remembered.
  std::shared_ptr<Authenticator> uncached() { return authenticator({0ms}); }

  IssuedToken issue(std::vector<std::string> tools = {}, std::optional<int> days = {},
                    const std::string& user = "alice@example.com") {
    TokenRequest request;
    request.user_email = user;
    request.name = "laptop-" + std::to_string(++issued);
    request.allowed_tools = std::move(tools);
    request.expires_days = days;
    auto token =
        issue_token(*store, TokenHasher{}, request, std::chrono::floor<std::chrono::seconds>(now));
    REQUIRE(token);
    return std::move(*token);
  }

  std::string jwt(json extra = json::object()) {
    json payload = {{"sub", "alice@example.com"}, {"exp", now_s + 600}, {"jti", "jwt-1"}};
    payload.update(extra);
    return test::hs256_jwt(payload);
  }
};

// A token with a different character: the checksum no longer matches.
std::string with_typo(std::string token) {
  char& c = token[k_token_prefix.size() + 3];
  c = c == 'a' ? 'b' : 'a';
  return token;
}

Refusal refusal_of(const AuthResult& result) {
  REQUIRE_FALSE(result.ok());
  return result.refusal();
}

}  // namespace

// --- the opaque-token chain ---

TEST_CASE("chain: malformed -> unknown -> revoked -> expired -> user disabled -> ok",
          "[core][auth]") {
  Fixture f;
  REQUIRE(f.store->add_user("bob@example.com", "Bob"));
  // Each token fails one more check than the next: revoked ones are also expired and belong to
  // a disabled user, and so on, so only the order of the checks decides the answer.
  const auto revoked = f.issue({}, 1, "bob@example.com");
  const auto expired = f.issue({}, 1, "bob@example.com");
  const auto of_disabled = f.issue({}, 30, "bob@example.com");
  const auto good = f.issue({}, 30);
  REQUIRE(f.store->revoke_token(revoked.token.id));
  REQUIRE(f.store->set_user_active("bob@example.com", false));
  f.now += std::chrono::days{2};
  auto auth = f.uncached();

  CHECK(refusal_of(auth->authenticate(with_typo(good.plaintext))) == Refusal::malformed);
  CHECK(f.store->lookups() == 0);  // never looked up
  CHECK(refusal_of(auth->authenticate(generate_token())) == Refusal::unknown);
  CHECK(refusal_of(auth->authenticate(revoked.plaintext)) == Refusal::revoked);
  CHECK(refusal_of(auth->authenticate(expired.plaintext)) == Refusal::expired);
  CHECK(refusal_of(auth->authenticate(of_disabled.plaintext)) == Refusal::user_inactive);
  CHECK(f.store->usage_writes() == 0);  // nothing recorded for refused tokens
  CHECK(auth->authenticate(good.plaintext).ok());
  CHECK(f.store->usage_writes() == 1);
}

TEST_CASE("a valid token yields its identity and allow-list", "[core][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue({"echo", "search"});
  const auto result = auth->authenticate(token.plaintext);
  REQUIRE(result.ok());
  const auto& identity = result.identity();
  CHECK(identity.valid);
  CHECK(identity.user == "alice@example.com");
  CHECK(identity.token_name == token.token.name);
  CHECK(identity.allowed_tools == std::vector<std::string>{"echo", "search"});
  CHECK(identity.can_use_tool("echo"));
  CHECK_FALSE(identity.can_use_tool("delete"));
  // An empty allow-list is every tool.
  const auto open = auth->authenticate(f.issue().plaintext);
  REQUIRE(open.ok());
  CHECK(open.identity().can_use_tool("anything"));
}

TEST_CASE("usage is recorded at most once a minute", "[core][auth]") {
  Fixture f;
  auto auth = f.uncached();
  const auto token = f.issue();
  REQUIRE(auth->authenticate(token.plaintext).ok());
  CHECK(f.store->last_used(token.token.id) == std::chrono::floor<std::chrono::seconds>(f.now));
  f.now += 59s;
  REQUIRE(auth->authenticate(token.plaintext).ok());
  CHECK(f.store->usage_writes() == 1);
  f.now += 1s;
  REQUIRE(auth->authenticate(token.plaintext).ok());
  CHECK(f.store->usage_writes() == 2);
}

TEST_CASE("missing and malformed credentials never reach storage", "[core][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  // With storage down, a lookup would say "unavailable": these never get that far.
  f.store->set_down(true);
  CHECK(refusal_of(auth->authenticate("")) == Refusal::missing);
  for (const std::string& bad :
       {std::string("garbage"), std::string("Bearer ") + token.plaintext,
        with_typo(token.plaintext), token.plaintext.substr(0, token.plaintext.size() - 1),
        token.plaintext + "x", "sk_" + token.plaintext.substr(5), std::string("mcpd_short")}) {
    INFO(bad);
    CHECK(refusal_of(auth->authenticate(bad)) == Refusal::malformed);
  }
  CHECK(f.store->lookups() == 0);
  CHECK(auth->cache_size() == 0);
}

TEST_CASE("a credential is read once: kind and hash, no I/O", "[core][auth]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  const auto opaque = auth->read(token.plaintext);
  CHECK(opaque.kind == Credential::Kind::opaque);
  CHECK(opaque.hash == TokenHasher{}.hash(token.plaintext));
  CHECK(opaque.text.empty());  // an opaque token is not carried around once hashed
  CHECK(auth->read(f.jwt()).kind == Credential::Kind::jwt);
  CHECK(auth->read("").refusal == Refusal::missing);
  CHECK(auth->read("garbage").refusal == Refusal::malformed);
  CHECK(f.authenticator({}, false)->read(f.jwt()).refusal == Refusal::jwt_disabled);
  CHECK(f.store->lookups() == 0);

  // A miss in try_cached, then authenticate() with the same credential: one lookup.
  CHECK_FALSE(auth->try_cached(opaque));
  REQUIRE(auth->authenticate(opaque).ok());
  CHECK(f.store->lookups() == 1);
}

TEST_CASE("a peppered hasher finds only tokens hashed with the pepper", "[core][auth]") {
  Fixture f;
  const auto token = f.issue();  // stored with plain SHA-256
  auto peppered = f.authenticator({}, true, TokenHasher("pepper-outside-the-db"));
  CHECK(refusal_of(peppered->authenticate(token.plaintext)) == Refusal::unknown);
  CHECK(f.authenticator()->authenticate(token.plaintext).ok());
}

// --- the cache ---

TEST_CASE("revocation is seen once the cache lifetime has passed", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth->authenticate(token.plaintext).ok());
  REQUIRE(f.store->revoke_token(token.token.id));

  // The answer cached a moment ago still stands, without a lookup...
  f.now += 1s;
  CHECK(auth->authenticate(token.plaintext).ok());
  CHECK(f.store->lookups() == 1);
  // ...but not past the lifetime.
  f.now += 1001ms;
  CHECK(refusal_of(auth->authenticate(token.plaintext)) == Refusal::revoked);
  CHECK(f.store->lookups() == 2);
  // The refusal is remembered too, and the lifetime is within PRODUCT's 5 s.
  CHECK(auth->cache_size() == 1);
  CHECK(AuthCacheOptions{}.ttl <= 5s);
}

TEST_CASE("a change notice clears the cache: revocation is seen at once", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth->authenticate(token.plaintext).ok());
  REQUIRE(f.store->revoke_token(token.token.id));
  CHECK(auth->authenticate(token.plaintext).ok());  // cached
  // What TokenStore::watch_changes calls; it keeps working after the authenticator is gone.
  const ChangeListener invalidate = auth->cache_invalidator();
  invalidate("token:" + std::to_string(token.token.id));
  CHECK(auth->cache_size() == 0);
  CHECK(refusal_of(auth->authenticate(token.plaintext)) == Refusal::revoked);
  CHECK(f.store->lookups() == 2);
  auth.reset();
  invalidate("");
}

TEST_CASE("an answer looked up before a clear is not stored after it", "[core][auth][cache]") {
  AuthCache cache(10);
  const auto now = SystemClock::now();
  const auto looked_up = cache.generation();
  cache.clear();  // a notice arrives while the lookup runs: its answer may be the stale one
  cache.remember("k", AuthResult{Refusal::revoked}, now, now + 2s, looked_up);
  CHECK(cache.size() == 0);
  cache.remember("k", AuthResult{Refusal::revoked}, now, now + 2s, cache.generation());
  CHECK(cache.size() == 1);
  cache.remember("j", AuthResult{Refusal::revoked}, now, now + 2s);  // no generation: stored
  CHECK(cache.size() == 2);
}

TEST_CASE("a thread's copy of an answer goes when the answer is withdrawn",
          "[core][auth][cache]") {
  AuthCache cache(10);
  const auto now = SystemClock::now();
  const AuthResult alice = core::Identity{"alice@example.com", "laptop", {}, true, {}};
  const auto user_of = [&](const AuthCache& from) {
    const auto found = from.find("k", now);
    return found && found->ok() ? found->identity().user.value_or("") : std::string("-");
  };

  cache.remember("k", alice, now, now + 2s);
  CHECK(user_of(cache) == "alice@example.com");  // read from the table, copied for this thread
  CHECK(user_of(cache) == "alice@example.com");  // served from the copy
  cache.clear();
  CHECK(user_of(cache) == "-");

  cache.remember("k", alice, now, now + 2s);
  CHECK(user_of(cache) == "alice@example.com");
  cache.forget("k");
  CHECK(user_of(cache) == "-");

  cache.remember("k", alice, now, now + 2s);
  CHECK(user_of(cache) == "alice@example.com");
  cache.remember("k", AuthResult{Refusal::revoked}, now, now + 2s);  // a newer answer
  const auto replaced = cache.find("k", now);
  REQUIRE(replaced);
  CHECK(refusal_of(*replaced) == Refusal::revoked);

  // Another cache under the same key has answers of its own, and a copy still expires.
  AuthCache other(10);
  CHECK_FALSE(other.find("k", now));
  other.remember("k", alice, now, now + 2s);
  CHECK(user_of(other) == "alice@example.com");
  CHECK(refusal_of(*cache.find("k", now)) == Refusal::revoked);
  CHECK_FALSE(other.find("k", now + 2s));
}

// find_shared hands out the thread's own copy: the same object again on this thread (no copy
// per request), another object on another thread (no reference count shared by all threads).
TEST_CASE("shared answers are per thread and outlive their withdrawal", "[core][auth][cache]") {
  AuthCache cache(10);
  const auto now = SystemClock::now();
  cache.remember("k", core::Identity{"alice@example.com", "laptop", {}, true, {}}, now, now + 2s);
  const auto first = cache.find_shared("k", now);
  REQUIRE(first);
  REQUIRE(first->ok());
  CHECK(cache.find_shared("k", now) == first);
  std::shared_ptr<const AuthResult> elsewhere;
  std::thread([&] { elsewhere = cache.find_shared("k", now); }).join();
  REQUIRE(elsewhere);
  CHECK(elsewhere != first);
  CHECK(elsewhere->identity().user == first->identity().user);
  // Withdrawn: no longer found, but a request already holding the answer keeps it intact.
  cache.forget("k");
  CHECK_FALSE(cache.find_shared("k", now));
  CHECK(first->identity().user == "alice@example.com");
}

TEST_CASE("a clear on one thread withdraws the copies of every thread", "[core][auth][cache]") {
  AuthCache cache(10);
  const auto now = SystemClock::now();
  cache.remember("k", core::Identity{}, now, now + 1h);
  std::atomic<bool> cleared{false};
  std::atomic<int> served_after_clear{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int n = 0; n < 20000; ++n) {
        const bool was_cleared = cleared.load();
        if (cache.find("k", now) && was_cleared) ++served_after_clear;
      }
    });
  }
  std::this_thread::sleep_for(1ms);
  cache.clear();
  cleared = true;
  for (auto& reader : readers) reader.join();
  CHECK(served_after_clear == 0);
  CHECK_FALSE(cache.find("k", now));
}

TEST_CASE("refusals are cached for the lifetime too", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const std::string plaintext = generate_token();
  CHECK(refusal_of(auth->authenticate(plaintext)) == Refusal::unknown);

  // The token appears in storage (as if created by another replica).
  NewToken created;
  created.user_id = f.store->get_user("alice@example.com")->id;
  created.name = "late";
  created.hash = TokenHasher{}.hash(plaintext);
  created.last8 = last8_of(plaintext);
  REQUIRE(f.store->create_token(created));

  f.now += 1500ms;
  CHECK(refusal_of(auth->authenticate(plaintext)) == Refusal::unknown);
  f.now += 600ms;
  const auto result = auth->authenticate(plaintext);
  REQUIRE(result.ok());
  CHECK(result.identity().token_name == "late");
}

TEST_CASE("a disabled user is refused and an enabled one comes back", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(f.store->set_user_active("alice@example.com", false));
  CHECK(refusal_of(auth->authenticate(token.plaintext)) == Refusal::user_inactive);
  REQUIRE(f.store->set_user_active("alice@example.com", true));
  f.now += 2s;
  CHECK(auth->authenticate(token.plaintext).ok());
}

TEST_CASE("a cached success never outlives the token's expiry", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue({}, 1);
  REQUIRE(token.token.expires_at);
  const SystemClock::time_point expiry = *token.token.expires_at;

  f.now = expiry - 1s;
  REQUIRE(auth->authenticate(token.plaintext).ok());
  CHECK(auth->try_cached(auth->read(token.plaintext)));
  f.now = expiry;  // within the lifetime of the answer above
  CHECK_FALSE(auth->try_cached(auth->read(token.plaintext)));
  CHECK(refusal_of(auth->authenticate(token.plaintext)) == Refusal::expired);
}

TEST_CASE("storage failures fail closed and are not cached", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto cached = f.issue();
  const auto other = f.issue();
  REQUIRE(auth->authenticate(cached.plaintext).ok());

  f.store->set_down(true);
  CHECK(refusal_of(auth->authenticate(other.plaintext)) == Refusal::unavailable);
  CHECK_FALSE(auth->try_cached(auth->read(other.plaintext)));
  // An answer cached before the outage is still served for its lifetime.
  CHECK(auth->authenticate(cached.plaintext).ok());

  // Recovery is immediate: the failure was not remembered.
  f.store->set_down(false);
  CHECK(auth->authenticate(other.plaintext).ok());
  CHECK(auth->try_cached(auth->read(other.plaintext)));
}

TEST_CASE("a clock stepping back does not extend cached answers", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  REQUIRE(auth->authenticate(token.plaintext).ok());
  REQUIRE(f.store->revoke_token(token.token.id));
  f.now -= 10s;
  CHECK(refusal_of(auth->authenticate(token.plaintext)) == Refusal::revoked);
}

TEST_CASE("the cache is bounded", "[core][auth][cache]") {
  Fixture f;
  AuthCacheOptions options;
  options.max_entries = 3;
  auto auth = f.authenticator(options);
  for (int i = 0; i < 20; ++i) {
    CHECK(refusal_of(auth->authenticate(generate_token())) == Refusal::unknown);
    CHECK(auth->cache_size() <= 3);
  }
  const auto token = f.issue();
  CHECK(auth->authenticate(token.plaintext).ok());
  CHECK(auth->cache_size() == 3);
  // Stale answers are dropped when new ones come in.
  f.now += 3s;
  CHECK(refusal_of(auth->authenticate(generate_token())) == Refusal::unknown);
  CHECK(auth->cache_size() == 1);
  auth->clear_cache();
  CHECK(auth->cache_size() == 0);

  AuthCacheOptions off;
  off.max_entries = 0;
  auto uncached = f.authenticator(off);
  CHECK(uncached->authenticate(token.plaintext).ok());
  CHECK(uncached->cache_size() == 0);
}

// recently_valid is what the HTTP gate asks before it stops an address that keeps failing.
TEST_CASE("a credential is recently valid after a successful lookup, until refused or 10 min",
          "[core][auth][cache]") {
  Fixture f;
  AuthCacheOptions off;  // kept even without an answer cache
  off.max_entries = 0;
  auto auth = f.authenticator(off);
  const auto token = f.issue();
  const auto credential = auth->read(token.plaintext);
  CHECK_FALSE(auth->recently_valid(credential));
  CHECK_FALSE(auth->recently_valid(auth->read("garbage")));
  REQUIRE(refusal_of(auth->authenticate(generate_token())) == Refusal::unknown);

  REQUIRE(auth->authenticate(credential).ok());
  CHECK(auth->recently_valid(credential));
  f.now += 9min;
  CHECK(auth->recently_valid(credential));
  auth->clear_cache();  // a change notice: answers go, the record stays
  CHECK(auth->recently_valid(credential));
  f.now += 2min;
  CHECK_FALSE(auth->recently_valid(credential));

  REQUIRE(auth->authenticate(credential).ok());
  REQUIRE(f.store->revoke_token(token.token.id));
  CHECK(refusal_of(auth->authenticate(credential)) == Refusal::revoked);
  CHECK_FALSE(auth->recently_valid(credential));
}

// try_cached is what the HTTP gate asks on its I/O threads before it posts a lookup.
TEST_CASE("try_cached answers from the cache only, never from storage", "[core][auth][cache]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.issue();
  const auto credential = auth->read(token.plaintext);

  // Refusals that need no storage are answered inline and take no cache slot.
  CHECK(auth->try_cached(auth->read(""))->refusal() == Refusal::missing);
  CHECK(auth->try_cached(auth->read("garbage"))->refusal() == Refusal::malformed);
  CHECK(auth->try_cached(auth->read(with_typo(token.plaintext)))->refusal() == Refusal::malformed);
  // A miss says nothing rather than reaching storage.
  CHECK_FALSE(auth->try_cached(credential));
  CHECK(auth->cache_size() == 0);
  CHECK(f.store->lookups() == 0);

  // A hit returns what authenticate() stored, even once storage has changed...
  REQUIRE(auth->authenticate(credential).ok());
  REQUIRE(f.store->revoke_token(token.token.id));
  f.now += 1999ms;
  const auto hit = auth->try_cached(credential);
  REQUIRE(hit);
  REQUIRE(hit->ok());
  CHECK(hit->identity().token_name == token.token.name);
  // ...but only for the lifetime: then it is a miss, and the lookup finds the revocation.
  f.now += 1ms;
  CHECK_FALSE(auth->try_cached(credential));
  CHECK(refusal_of(auth->authenticate(credential)) == Refusal::revoked);
  const auto refused = auth->try_cached(credential);
  REQUIRE(refused);
  CHECK(refusal_of(*refused) == Refusal::revoked);
  CHECK(f.store->lookups() == 2);
}

TEST_CASE("worker threads share one authenticator", "[core][auth][threads]") {
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
        const auto credential = auth->read(token.plaintext);
        auto result = t % 2 ? auth->try_cached(credential) : nullptr;
        if (!result) result = std::make_shared<const AuthResult>(auth->authenticate(credential));
        const bool revoked = token.token.id == tokens[3].token.id;
        if (revoked ? !result->refused(Refusal::revoked)
                    : (!result->ok() || result->identity().token_name != token.token.name))
          ++wrong[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
  CHECK(auth->cache_size() == 4);
}

// --- JWTs beside opaque tokens ---

TEST_CASE("opaque tokens and JWTs work side by side", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto from_jwt = auth->authenticate(f.jwt({{"tools", {"echo"}}}));
  REQUIRE(from_jwt.ok());
  CHECK(from_jwt.identity().user == "alice@example.com");
  CHECK(from_jwt.identity().token_name == "jwt");
  CHECK(from_jwt.identity().allowed_tools == std::vector<std::string>{"echo"});
  CHECK_FALSE(from_jwt.identity().can_use_tool("search"));

  const auto from_opaque = auth->authenticate(f.issue().plaintext);
  REQUIRE(from_opaque.ok());
  CHECK(from_opaque.identity().token_name == "laptop-1");

  CHECK(refusal_of(auth->authenticate("")) == Refusal::missing);
  CHECK(refusal_of(auth->authenticate("garbage")) == Refusal::malformed);
  CHECK(refusal_of(auth->authenticate(f.jwt() + "x")) == Refusal::jwt_signature);
  CHECK(refusal_of(auth->authenticate("a.b.c.d")) == Refusal::jwt_malformed);
  CHECK(refusal_of(auth->authenticate(f.jwt({{"exp", f.now_s - 10}}))) == Refusal::jwt_expired);
  CHECK_FALSE(auth->protected_resource());
}

TEST_CASE("a JWT without JWT configured is refused with its own reason", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.authenticator({}, false);
  CHECK(refusal_of(auth->authenticate(f.jwt())) == Refusal::jwt_disabled);
  CHECK(auth->try_cached(auth->read(f.jwt()))->refusal() == Refusal::jwt_disabled);
  CHECK(auth->authenticate(f.issue().plaintext).ok());
}

TEST_CASE("a revoked jti is refused once the cache lifetime has passed", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.authenticator();
  const auto token = f.jwt();
  REQUIRE(auth->authenticate(token).ok());
  REQUIRE(f.store->revoke_jti("jwt-1", std::nullopt, "", now_seconds()));
  // Still cached for a moment...
  CHECK(auth->authenticate(token).ok());
  // ...and refused once the 2 s lifetime passed (PRODUCT: within 5 s everywhere).
  f.now += 2s;
  CHECK(refusal_of(auth->authenticate(token)) == Refusal::jwt_revoked);
  // Other tokens of the same user are unaffected.
  CHECK(auth->authenticate(f.jwt({{"jti", "jwt-2"}})).ok());
  // A token without a jti cannot be revoked by id, and is accepted.
  auto without = json{{"sub", "alice@example.com"}, {"exp", f.now_s + 600}};
  CHECK(auth->authenticate(test::hs256_jwt(without)).ok());
}

TEST_CASE("a JWT whose subject is a disabled user is refused", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.uncached();
  REQUIRE(auth->authenticate(f.jwt()).ok());
  REQUIRE(f.store->set_user_active("alice@example.com", false));
  CHECK(refusal_of(auth->authenticate(f.jwt())) == Refusal::user_inactive);
  CHECK(refusal_of(auth->authenticate(f.jwt({{"sub", "ALICE@example.com"}}))) ==
        Refusal::user_inactive);
  // Subjects that are not in the users table need no account.
  CHECK(auth->authenticate(f.jwt({{"sub", "bob@example.com"}})).ok());
  CHECK(auth->authenticate(f.jwt({{"sub", "service-account-7"}})).ok());
  REQUIRE(f.store->set_user_active("alice@example.com", true));
  CHECK(auth->authenticate(f.jwt()).ok());
}

TEST_CASE("a cached JWT answer never outlives the token's exp", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.authenticator({10s});
  const auto token = f.jwt({{"exp", f.now_s + 1}});
  const auto credential = auth->read(token);
  CHECK_FALSE(auth->try_cached(credential));  // miss: the signature is checked off the I/O thread
  REQUIRE(auth->authenticate(credential).ok());
  const auto hit = auth->try_cached(credential);
  REQUIRE(hit);
  CHECK(hit->identity().user == "alice@example.com");
  // A near-miss credential never matches the cached one.
  CHECK_FALSE(auth->try_cached(auth->read(token + "x")));
  f.now += 1s;
  CHECK_FALSE(auth->try_cached(credential));
  CHECK(refusal_of(auth->authenticate(credential)) == Refusal::jwt_expired);
}

TEST_CASE("storage failures fail closed for JWTs and are not cached", "[core][auth][jwt]") {
  Fixture f;
  auto auth = f.authenticator();
  f.store->set_down(true);
  CHECK(refusal_of(auth->authenticate(f.jwt())) == Refusal::unavailable);
  f.store->set_down(false);
  CHECK(auth->authenticate(f.jwt()).ok());
}

TEST_CASE("make_authenticator builds from settings and offers RFC 9728 metadata",
          "[core][auth][jwt]") {
  Fixture f;
  core::Settings settings;
  settings.name = "shop";
  CHECK_FALSE(make_authenticator(settings, f.store)->protected_resource());

  settings.jwt.enabled = true;
  settings.jwt.secret = test::k_secret;
  settings.jwt.issuer = "https://auth.example.com";
  settings.jwt.audience = "https://mcp.example.com/mcp";
  auto auth = make_authenticator(settings, f.store);
  const auto& resource = auth->protected_resource();
  REQUIRE(resource);
  CHECK(resource->resource == "https://mcp.example.com/mcp");  // the audience, a URL
  CHECK(resource->authorization_servers == std::vector<std::string>{"https://auth.example.com"});
  CHECK(resource->resource_name == "shop");

  settings.jwt.audience = "mcpd-api";  // not a URL: derived per request
  CHECK(protected_resource_of(settings).resource.empty());
  settings.jwt.resource = "https://mcp.example.com/";
  CHECK(protected_resource_of(settings).resource == "https://mcp.example.com/");

  settings.jwt.secret = "short";
  CHECK_THROWS_AS(make_authenticator(settings, f.store), Error);
}

// --- the session's view (stdio's MCPD_TOKEN, re-resolved every few seconds) ---

TEST_CASE("a session identity follows revocation with the refusal's wording", "[core][auth]") {
  Fixture f;
  auto auth = f.uncached();
  const auto jwt = auth->read(f.jwt({{"tools", {"echo"}}}));
  auto identity = auth->authenticate(jwt).session_identity();
  REQUIRE(identity.valid);
  CHECK(identity.user == "alice@example.com");
  CHECK(identity.allowed_tools == std::vector<std::string>{"echo"});

  REQUIRE(f.store->revoke_jti("jwt-1", std::nullopt, "", now_seconds()));
  identity = auth->authenticate(jwt).session_identity();
  CHECK_FALSE(identity.valid);
  CHECK(identity.invalid_reason == "JWT revoked");
  CHECK_FALSE(identity.can_use_tool("echo"));

  const auto token = f.issue();
  const auto opaque = auth->read(token.plaintext);
  REQUIRE(auth->authenticate(opaque).session_identity().valid);
  REQUIRE(f.store->revoke_token(token.token.id));
  CHECK(auth->authenticate(opaque).session_identity().invalid_reason == "token revoked");
  f.store->set_down(true);
  CHECK(auth->authenticate(opaque).session_identity().invalid_reason == "storage unavailable");
}

// --- the one table of refusals ---

TEST_CASE("refusals: labels, wording and HTTP status in one table", "[core][auth]") {
  CHECK(reason_label(Refusal::user_inactive) == "user_inactive");
  CHECK(reason_label(Refusal::query_token) == "query_token");
  CHECK(reason_label(Refusal::jwt_not_yet_valid) == "jwt_not_yet_valid");
  CHECK(reason_label(Refusal::jwt_disabled) == "jwt_disabled");
  CHECK(describe(Refusal::malformed) == "malformed token");
  CHECK(describe(Refusal::unknown) == "invalid token");
  CHECK(describe(Refusal::revoked) == "token revoked");
  CHECK(describe(Refusal::expired) == "token expired");
  CHECK(describe(Refusal::user_inactive) == "user account is disabled");
  CHECK(describe(Refusal::jwt_expired) == "JWT expired");
  CHECK(http_status(Refusal::unavailable) == 503);
  CHECK(http_status(Refusal::query_token) == 400);
  for (auto refusal : {Refusal::missing, Refusal::malformed, Refusal::unknown, Refusal::revoked,
                       Refusal::expired, Refusal::user_inactive, Refusal::jwt_signature,
                       Refusal::jwt_revoked, Refusal::jwt_disabled})
    CHECK(http_status(refusal) == 401);
  // The metric's pre-declared reasons are the opaque chain's labels, in its order.
  std::vector<std::string> chain;
  for (auto refusal : {Refusal::missing, Refusal::malformed, Refusal::unknown, Refusal::revoked,
                       Refusal::expired, Refusal::user_inactive, Refusal::unavailable})
    chain.emplace_back(reason_label(refusal));
  CHECK(chain == core::Metrics::known_auth_reasons());
}
