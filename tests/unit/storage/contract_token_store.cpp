// The TokenStore contract: every backend must pass this same suite. Built and registered twice
// (sqlite, postgres) by tests/integration/storage.cmake.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "contract_support.hpp"
#include "core/auth/authenticator.hpp"
#include "core/auth/token.hpp"
#include "core/auth/token_service.hpp"
#include "storage/migrations.hpp"
#include "storage/token_store.hpp"

using namespace mcpd;
using namespace std::chrono_literals;
using core::auth::Refusal;
using core::auth::TokenHasher;
using storage::Failure;

namespace {

struct Fixture {
  std::unique_ptr<test::TestDatabase> db = test::fresh_database();
  std::shared_ptr<storage::TokenStore> store = open();

  std::unique_ptr<storage::TokenStore> open() const {
    auto opened = storage::open_store(db->url());
    if (!opened) FAIL("open_store(" << db->url() << "): " << opened.error().message);
    return std::move(opened).value();
  }

  storage::User user(const std::string& email = "ada@example.com") {
    auto added = store->add_user(email, "Ada");
    REQUIRE(added);
    return *added;
  }

  struct Made {
    storage::Token token;
    std::string plaintext;
  };
  Made token(std::int64_t user_id, const std::string& name = "laptop",
             std::vector<std::string> tools = {}, std::optional<storage::Time> expires = {},
             const TokenHasher& hasher = TokenHasher{}) {
    Made made;
    made.plaintext = core::auth::generate_token();
    storage::NewToken spec{
        user_id,          name,   hasher.hash(made.plaintext), core::auth::last8_of(made.plaintext),
        std::move(tools), expires};
    auto created = store->create_token(spec);
    if (!created) FAIL("create_token: " << created.error().message);
    made.token = *created;
    return made;
  }

  // The auth policy over this store at `now`, uncached: every answer comes from the backend.
  core::auth::AuthResult validate(const std::string& presented, storage::Time now,
                                  const TokenHasher& hasher = TokenHasher{}) {
    core::auth::Authenticator::Options options;
    options.hasher = hasher;
    options.cache.ttl = 0ms;
    options.clock = [now] { return std::chrono::system_clock::time_point{now}; };
    return core::auth::Authenticator(store, std::move(options)).authenticate(presented);
  }
};

const auto k_now = core::auth::now_seconds();

std::optional<Refusal> refusal_of(const core::auth::AuthResult& result) {
  if (result.ok()) return std::nullopt;
  return result.refusal();
}

}  // namespace

TEST_CASE("users: add, get, list, disable, enable", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user("Ada@Example.com ");
  CHECK(ada.email == "ada@example.com");  // trimmed, lower-case
  CHECK(ada.name == "Ada");
  CHECK(ada.is_active);
  CHECK(ada.id > 0);
  CHECK(ada.created_at.time_since_epoch().count() > 0);

  auto got = f.store->get_user("ADA@example.com");
  REQUIRE(got);
  CHECK(got->id == ada.id);

  auto duplicate = f.store->add_user("ada@EXAMPLE.com", "Other");
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.error().failure == Failure::conflict);
  CHECK_THAT(duplicate.error().message, Catch::Contains("already exists"));

  for (const char* bad : {"", "no-at-sign", "@example.com", "a@", "a b@example.com", "a@b@c"}) {
    auto refused = f.store->add_user(bad, "");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().failure == Failure::invalid);
  }

  f.user("bob@example.com");
  auto users = f.store->list_users();
  REQUIRE(users);
  REQUIRE(users->size() == 2);
  CHECK((*users)[0].email == "ada@example.com");
  CHECK((*users)[1].email == "bob@example.com");

  auto disabled = f.store->set_user_active("ada@example.com", false);
  REQUIRE(disabled);
  CHECK_FALSE(disabled->is_active);
  CHECK_FALSE(f.store->get_user("ada@example.com")->is_active);
  auto again = f.store->set_user_active("ada@example.com", false);  // idempotent
  REQUIRE(again);
  CHECK_FALSE(again->is_active);
  auto enabled = f.store->set_user_active("ada@example.com", true);
  REQUIRE(enabled);
  CHECK(enabled->is_active);

  auto missing = f.store->get_user("nobody@example.com");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().failure == Failure::not_found);
  auto missing_toggle = f.store->set_user_active("nobody@example.com", false);
  REQUIRE_FALSE(missing_toggle);
  CHECK(missing_toggle.error().failure == Failure::not_found);
}

TEST_CASE("tokens: create, find by hash, revoke", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user();
  const auto expires = k_now + std::chrono::hours{24 * 30};
  auto made = f.token(ada.id, "Claude Desktop", {"search_products", "get_order"}, expires);
  const auto& token = made.token;
  CHECK(token.id > 0);
  CHECK(token.user_id == ada.id);
  CHECK(token.user_email == "ada@example.com");
  CHECK(token.name == "Claude Desktop");
  CHECK(token.is_active);
  CHECK(token.allowed_tools == std::vector<std::string>{"search_products", "get_order"});
  REQUIRE(token.expires_at);
  CHECK(*token.expires_at == expires);
  CHECK_FALSE(token.last_used_at);
  CHECK(token.last8 == made.plaintext.substr(made.plaintext.size() - 8));
  CHECK(token.masked() == "****" + token.last8);

  auto found = f.store->find_by_hash(TokenHasher{}.hash(made.plaintext));
  REQUIRE(found);
  CHECK(found->token.id == token.id);
  CHECK(found->user.email == "ada@example.com");
  CHECK(found->user.is_active);

  auto unknown = f.store->find_by_hash(TokenHasher{}.hash(core::auth::generate_token()));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().failure == Failure::not_found);

  auto revoked = f.store->revoke_token(token.id);
  REQUIRE(revoked);
  CHECK_FALSE(revoked->is_active);
  CHECK_FALSE(f.store->find_by_hash(TokenHasher{}.hash(made.plaintext))->token.is_active);
  auto twice = f.store->revoke_token(token.id);
  REQUIRE(twice);
  CHECK_FALSE(twice->is_active);

  auto missing = f.store->revoke_token(token.id + 1000);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().failure == Failure::not_found);
}

TEST_CASE("tokens: creation refuses bad input", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user();
  const auto plaintext = core::auth::generate_token();
  storage::NewToken spec{
      ada.id, "ci", TokenHasher{}.hash(plaintext), core::auth::last8_of(plaintext), {}, {}};

  SECTION("a plaintext token instead of a hash") {
    auto refused = f.store->create_token({ada.id, "ci", plaintext, "12345678", {}, {}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().failure == Failure::invalid);
  }
  SECTION("unknown user") {
    spec.user_id = ada.id + 1000;
    auto refused = f.store->create_token(spec);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().failure == Failure::not_found);
  }
  SECTION("duplicate hash") {
    REQUIRE(f.store->create_token(spec));
    auto refused = f.store->create_token(spec);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().failure == Failure::conflict);
  }
  SECTION("empty name, bad tool name") {
    spec.name = " ";
    CHECK(f.store->create_token(spec).error().failure == Failure::invalid);
    spec.name = "ci";
    spec.allowed_tools = {"ok_tool", "not a tool"};
    CHECK(f.store->create_token(spec).error().failure == Failure::invalid);
  }
}

TEST_CASE("tokens: list filters", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user("ada@example.com");
  const auto bob = f.user("bob@example.com");
  const auto a1 = f.token(ada.id, "a1").token;
  const auto a2 = f.token(ada.id, "a2-revoked").token;
  const auto a3 = f.token(ada.id, "a3-expired", {}, k_now - 1h).token;
  const auto b1 = f.token(bob.id, "b1", {}, k_now + 1h).token;
  REQUIRE(f.store->revoke_token(a2.id));

  auto ids = [&](storage::TokenFilter filter) {
    auto listed = f.store->list_tokens(filter);
    REQUIRE(listed);
    std::vector<std::int64_t> out;
    for (const auto& t : *listed) out.push_back(t.id);
    return out;
  };
  using Ids = std::vector<std::int64_t>;
  CHECK(ids({std::nullopt, false, k_now}) == Ids{a1.id, b1.id});
  CHECK(ids({std::nullopt, true, k_now}) == Ids{a1.id, a2.id, a3.id, b1.id});
  CHECK(ids({"ADA@example.com", false, k_now}) == Ids{a1.id});
  CHECK(ids({"ada@example.com", true, k_now}) == Ids{a1.id, a2.id, a3.id});
  CHECK(ids({"bob@example.com", false, k_now + 2h}) == Ids{});  // b1 expired by then
  CHECK(ids({"nobody@example.com", true, k_now}) == Ids{});

  auto all = f.store->list_tokens({std::nullopt, true, k_now});
  REQUIRE(all);
  CHECK((*all)[3].user_email == "bob@example.com");
}

TEST_CASE("validation chain: every failure, in order", "[storage][contract][auth]") {
  Fixture f;
  const auto ada = f.user();
  auto good = f.token(ada.id, "good", {"search"});

  SECTION("valid token -> identity, usage recorded") {
    auto v = f.validate(good.plaintext, k_now);
    REQUIRE(v.ok());
    const auto identity = v.identity();
    CHECK(identity.valid);
    CHECK(identity.user == "ada@example.com");
    CHECK(identity.token_name == "good");
    CHECK(identity.allowed_tools == std::vector<std::string>{"search"});
    CHECK(identity.can_use_tool("search"));
    CHECK_FALSE(identity.can_use_tool("delete_everything"));
    auto after = f.store->find_by_hash(TokenHasher{}.hash(good.plaintext));
    REQUIRE(after->token.last_used_at);
    CHECK(*after->token.last_used_at == k_now);
  }
  SECTION("malformed tokens are refused before any lookup") {
    std::string typo = good.plaintext;
    typo[10] = typo[10] == 'a' ? 'b' : 'a';
    for (const std::string& bad :
         {std::string{"Bearer x"}, typo, good.plaintext + "x", good.plaintext.substr(5)}) {
      CHECK(refusal_of(f.validate(bad, k_now)) == Refusal::malformed);
    }
    CHECK(refusal_of(f.validate("", k_now)) == Refusal::missing);
    CHECK(f.validate(good.plaintext, k_now).ok());
  }
  SECTION("unknown") {
    auto v = f.validate(core::auth::generate_token(), k_now);
    CHECK(refusal_of(v) == Refusal::unknown);
    CHECK_FALSE(v.session_identity().valid);
    CHECK(v.session_identity().invalid_reason == "invalid token");
  }
  SECTION("revoked, then expired, then user inactive") {
    auto all_wrong = f.token(ada.id, "all-wrong", {}, k_now - 1s);
    auto expired = f.token(ada.id, "expired", {}, k_now - 1s);
    REQUIRE(f.store->revoke_token(all_wrong.token.id));
    REQUIRE(f.store->set_user_active("ada@example.com", false));

    CHECK(refusal_of(f.validate(all_wrong.plaintext, k_now)) == Refusal::revoked);
    CHECK(refusal_of(f.validate(expired.plaintext, k_now)) == Refusal::expired);
    CHECK(refusal_of(f.validate(expired.plaintext, k_now - 2s)) == Refusal::user_inactive);
    auto disabled = f.validate(good.plaintext, k_now);
    CHECK(refusal_of(disabled) == Refusal::user_inactive);
    CHECK_FALSE(disabled.session_identity().valid);
    CHECK_FALSE(disabled.session_identity().can_use_tool("search"));
    // Failed validations record nothing.
    CHECK_FALSE(f.store->find_by_hash(TokenHasher{}.hash(good.plaintext))->token.last_used_at);

    REQUIRE(f.store->set_user_active("ada@example.com", true));
    CHECK(f.validate(good.plaintext, k_now).ok());
  }
  SECTION("expiry is exclusive: valid until the second it expires") {
    auto soon = f.token(ada.id, "soon", {}, k_now + 10s);
    CHECK(f.validate(soon.plaintext, k_now + 9s).ok());
    CHECK(refusal_of(f.validate(soon.plaintext, k_now + 10s)) == Refusal::expired);
  }
  SECTION("allow-list: empty permits every tool") {
    auto open = f.token(ada.id, "open");
    auto identity = f.validate(open.plaintext, k_now).session_identity();
    CHECK(identity.valid);
    CHECK(identity.allowed_tools.empty());
    CHECK(identity.can_use_tool("anything"));
    CHECK(open.token.can_use_tool("anything"));
    CHECK(good.token.can_use_tool("search"));
    CHECK_FALSE(good.token.can_use_tool("Search"));
  }
  SECTION("a damaged allow-list fails closed, never 'all tools'") {
    f.db->raw_exec("UPDATE tokens SET allowed_tools = 'not json' WHERE id = " +
                   std::to_string(good.token.id));
    auto v = f.validate(good.plaintext, k_now);
    CHECK(refusal_of(v) == Refusal::unavailable);
    CHECK_FALSE(v.session_identity().can_use_tool("search"));
  }
  SECTION("a pepper changes the hash: only the same pepper validates") {
    const TokenHasher peppered{"pepper-outside-the-database"};
    auto spiced = f.token(ada.id, "spiced", {}, {}, peppered);
    CHECK(f.validate(spiced.plaintext, k_now, peppered).ok());
    CHECK(refusal_of(f.validate(spiced.plaintext, k_now)) == Refusal::unknown);
    CHECK(refusal_of(f.validate(good.plaintext, k_now, peppered)) == Refusal::unknown);
  }
}

TEST_CASE("last_used_at writes are coalesced to one per minute", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user();
  auto made = f.token(ada.id);
  const auto hash = TokenHasher{}.hash(made.plaintext);
  // Seconds after k_now, or -1 for never: readable in failure messages.
  auto last_used = [&]() -> long {
    const auto t = f.store->find_by_hash(hash)->token.last_used_at;
    return t ? (*t - k_now).count() : -1;
  };

  REQUIRE(f.validate(made.plaintext, k_now).ok());
  CHECK(last_used() == 0);
  REQUIRE(f.validate(made.plaintext, k_now + 30s).ok());
  CHECK(last_used() == 0);  // within the minute: no write
  REQUIRE(f.validate(made.plaintext, k_now + 59s).ok());
  CHECK(last_used() == 0);
  REQUIRE(f.validate(made.plaintext, k_now + 60s).ok());
  CHECK(last_used() == 60);

  SECTION("another process with a stale record does not write either") {
    auto other = f.open();  // its own coalescing memory is empty
    auto stale = made.token;
    stale.last_used_at.reset();
    REQUIRE(other->record_usage(stale, k_now + 90s));
    CHECK(last_used() == 60);
    // Its own attempt at +90 counts for its coalescing: next write a minute after that.
    REQUIRE(other->record_usage(stale, k_now + 120s));
    CHECK(last_used() == 60);
    REQUIRE(other->record_usage(stale, k_now + 150s));
    CHECK(last_used() == 150);
  }
}

TEST_CASE("migrations are versioned and idempotent on reopen", "[storage][contract]") {
  Fixture f;
  auto version = f.store->schema_version();
  REQUIRE(version);
  CHECK(*version == storage::latest_schema_version());
  const auto ada = f.user();
  const auto made = f.token(ada.id);
  f.store.reset();

  for (int i = 0; i < 3; ++i) {
    auto reopened = f.open();
    CHECK(*reopened->schema_version() == storage::latest_schema_version());
    auto users = reopened->list_users();
    REQUIRE(users);
    CHECK(users->size() == 1);
    CHECK(reopened->find_by_hash(TokenHasher{}.hash(made.plaintext)));
  }
  // One schema_version row per migration, however often it was opened.
  CHECK(f.db->raw_long("SELECT COUNT(*) FROM schema_version") ==
        static_cast<long>(storage::migrations().size()));
}

TEST_CASE("concurrent first opens of a new database all succeed", "[storage][contract]") {
  auto db = test::fresh_database();
  constexpr int k_openers = 6;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(k_openers);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_openers; ++i) {
    threads.emplace_back([&, i] {
      auto opened = storage::open_store(db->url());
      if (!opened) {
        errors[i] = opened.error().message;
        return;
      }
      if ((*opened)->add_user("user" + std::to_string(i) + "@example.com", ""))
        ++ok;
      else
        errors[i] = "add_user failed";
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e.empty());
  CHECK(ok == k_openers);
}

TEST_CASE("the plaintext token is stored nowhere", "[storage][contract][security]") {
  Fixture f;
  f.user();
  core::auth::TokenRequest request{"ada@example.com", "ci", {"a", "b"}, 30};
  auto issued = core::auth::issue_token(*f.store, TokenHasher{}, request, k_now);
  REQUIRE(issued);
  const auto& plaintext = issued->plaintext;
  REQUIRE(core::auth::parse_token(plaintext));
  // Use it, so every write path has run.
  REQUIRE(f.validate(plaintext, k_now).ok());
  REQUIRE(f.store->revoke_token(issued->token.id));

  const auto raw = f.db->raw_contents();
  // The dump really holds the data: the hash and the e-mail are in it...
  CHECK(raw.find(TokenHasher{}.hash(plaintext)) != std::string::npos);
  CHECK(raw.find("ada@example.com") != std::string::npos);
  // ...but neither the token nor its secret body (nor a 16-character slice of it).
  CHECK(raw.find(plaintext) == std::string::npos);
  const auto body =
      plaintext.substr(core::auth::k_token_prefix.size(), core::auth::k_token_body_length);
  CHECK(raw.find(body) == std::string::npos);
  for (std::size_t i = 0; i + 16 <= body.size(); i += 8)
    CHECK(raw.find(body.substr(i, 16)) == std::string::npos);
}

TEST_CASE("issue_token refuses unknown and disabled users", "[storage][contract]") {
  Fixture f;
  f.user();
  core::auth::TokenRequest request{"nobody@example.com", "ci", {}, std::nullopt};
  auto unknown = core::auth::issue_token(*f.store, TokenHasher{}, request, k_now);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().failure == Failure::not_found);

  REQUIRE(f.store->set_user_active("ada@example.com", false));
  request.user_email = "ada@example.com";
  auto disabled = core::auth::issue_token(*f.store, TokenHasher{}, request, k_now);
  REQUIRE_FALSE(disabled);
  CHECK(disabled.error().failure == Failure::invalid);
  CHECK(f.store->list_tokens({std::nullopt, true, k_now})->empty());

  REQUIRE(f.store->set_user_active("ada@example.com", true));
  request.expires_days = 0;
  CHECK(core::auth::issue_token(*f.store, TokenHasher{}, request, k_now).error().failure ==
        Failure::invalid);
  request.expires_days = 7;
  auto issued = core::auth::issue_token(*f.store, TokenHasher{}, request, k_now);
  REQUIRE(issued);
  CHECK(issued->token.expires_at == k_now + std::chrono::days{7});
}

TEST_CASE("many threads validate through one store", "[storage][contract][threads]") {
  Fixture f;
  const auto ada = f.user();
  std::vector<Fixture::Made> tokens;
  for (int i = 0; i < 4; ++i) tokens.push_back(f.token(ada.id, "t" + std::to_string(i)));
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const auto& made = tokens[(t + i) % tokens.size()];
        if (f.validate(made.plaintext, k_now + std::chrono::seconds{i * 10}).ok())
          ++ok;
        else
          ++failed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failed == 0);
  CHECK(ok == 400);
  CHECK(f.store->ping());
}

TEST_CASE("the store recovers from dropped connections", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user();
  auto made = f.token(ada.id);
  // Put several pooled connections to use, then break them all.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] { CHECK(f.validate(made.plaintext, k_now).ok()); });
  for (auto& t : threads) t.join();
  f.db->drop_connections();
  // Reads retry once on a fresh connection: no failure is visible.
  for (int i = 0; i < 8; ++i) CHECK(f.validate(made.plaintext, k_now).ok());
  auto users = f.store->list_users();
  REQUIRE(users);
  CHECK(users->size() == 1);
  f.db->drop_connections();
  // Writes too: a transaction that lost its connection before COMMIT did not happen.
  CHECK(f.store->add_user("bob@example.com", ""));
  CHECK(f.store->revoke_token(made.token.id));
  CHECK(f.store->list_users()->size() == 2);
}

TEST_CASE("a session token read once notices revocation", "[storage][contract]") {
  Fixture f;
  const auto ada = f.user();
  auto made = f.token(ada.id, "stdio", {"search"});
  // As serve.cpp resolves MCPD_TOKEN: uncached, the credential read once for the session.
  core::auth::Authenticator::Options options;
  options.cache.ttl = 0ms;
  core::auth::Authenticator auth(f.store, std::move(options));
  const auto credential = auth.read(made.plaintext);
  auto identity = auth.authenticate(credential).session_identity();
  CHECK(identity.valid);
  CHECK(identity.user == "ada@example.com");
  CHECK(identity.token_name == "stdio");

  REQUIRE(f.store->revoke_token(made.token.id));
  const auto refused = auth.authenticate(credential);
  CHECK(refusal_of(refused) == Refusal::revoked);
  identity = refused.session_identity();
  CHECK_FALSE(identity.valid);
  CHECK(identity.invalid_reason == "token revoked");

  CHECK(auth.authenticate("not-a-token").session_identity().invalid_reason == "malformed token");
}

TEST_CASE("revoked JWT ids: revoke, check, expire, prune", "[storage][contract][jwt]") {
  Fixture f;
  CHECK_FALSE(*f.store->is_jti_revoked("jwt-1", k_now));

  auto revoked = f.store->revoke_jti("jwt-1", k_now + 3600s, "laptop stolen", k_now);
  REQUIRE(revoked);
  CHECK(revoked->jti == "jwt-1");
  CHECK(revoked->expires_at == k_now + 3600s);
  CHECK(revoked->reason == "laptop stolen");
  CHECK(revoked->revoked_at == k_now);
  CHECK(*f.store->is_jti_revoked("jwt-1", k_now));
  CHECK(*f.store->is_jti_revoked("jwt-1", k_now + 3599s));
  CHECK_FALSE(*f.store->is_jti_revoked("jwt-1", k_now + 3600s));  // the token expired anyway
  CHECK_FALSE(*f.store->is_jti_revoked("jwt-2", k_now));
  CHECK_FALSE(*f.store->is_jti_revoked("JWT-1", k_now));  // ids compare exactly

  // Another process (replica) sees it at once.
  auto other = f.open();
  CHECK(*other->is_jti_revoked("jwt-1", k_now));

  // Revoking again never shortens the entry; no expiry means kept for good.
  REQUIRE(f.store->revoke_jti("jwt-1", k_now + 60s, "again", k_now));
  CHECK(*f.store->is_jti_revoked("jwt-1", k_now + 3000s));
  revoked = f.store->revoke_jti("jwt-1", std::nullopt, "for good", k_now);
  REQUIRE(revoked);
  CHECK_FALSE(revoked->expires_at);
  CHECK(revoked->reason == "for good");
  REQUIRE(f.store->revoke_jti("jwt-1", k_now + 60s, "", k_now));
  CHECK(*f.store->is_jti_revoked("jwt-1", k_now + 3650 * 24h));

  // Pruning removes only entries whose token has expired.
  REQUIRE(f.store->revoke_jti("short", k_now + 10s, "", k_now));
  REQUIRE(f.store->revoke_jti("long", k_now + 1000s, "", k_now));
  auto pruned = f.store->prune_revoked_jtis(k_now + 10s);
  REQUIRE(pruned);
  CHECK(*pruned == 1);
  CHECK(f.db->raw_long("SELECT COUNT(*) FROM revoked_jtis") == 2);  // jwt-1 (forever), long
  // A revocation prunes what has expired by its time.
  REQUIRE(f.store->revoke_jti("later", std::nullopt, "", k_now + 2000s));
  CHECK(f.db->raw_long("SELECT COUNT(*) FROM revoked_jtis") == 2);  // jwt-1, later
  CHECK(*f.store->prune_revoked_jtis(k_now + 5000s) == 0);
}

TEST_CASE("revoked JWT ids: bad input is refused", "[storage][contract][jwt]") {
  Fixture f;
  CHECK(f.store->revoke_jti("", std::nullopt, "", k_now).error().failure == Failure::invalid);
  CHECK(f.store->revoke_jti(std::string(257, 'j'), std::nullopt, "", k_now).error().failure ==
        Failure::invalid);
  CHECK(f.store->revoke_jti("a\nb", std::nullopt, "", k_now).error().failure == Failure::invalid);
  CHECK(f.store->revoke_jti("ok", std::nullopt, std::string(501, 'r'), k_now).error().failure ==
        Failure::invalid);
  CHECK(f.store->revoke_jti(std::string(256, 'j'), std::nullopt, "", k_now));
  // Quotes and SQL in an id are only data.
  const std::string nasty = "x'); DROP TABLE revoked_jtis; --";
  REQUIRE(f.store->revoke_jti(nasty, std::nullopt, "it's \"quoted\"", k_now));
  CHECK(*f.store->is_jti_revoked(nasty, k_now));
}

TEST_CASE("a version 1 database gains the revoked-jti table on open", "[storage][contract][jwt]") {
  Fixture f;
  f.store.reset();
  // Back to the schema an older mcpd left behind.
  f.db->raw_exec("DROP TABLE revoked_jtis");
  f.db->raw_exec("DELETE FROM schema_version WHERE version >= 2");
  auto reopened = f.open();
  CHECK(*reopened->schema_version() == storage::latest_schema_version());
  REQUIRE(reopened->revoke_jti("jwt-1", std::nullopt, "", k_now));
  CHECK(*reopened->is_jti_revoked("jwt-1", k_now));
}

TEST_CASE("change notices name every change that can alter an answer", "[storage][contract]") {
  // Declared before the store: the watcher's thread may call the listener until it is gone.
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> heard;
  Fixture f;
  const auto ada = f.user();
  auto made = f.token(ada.id);
  const bool watching = f.store->watch_changes([&](const std::string& what) {
    std::lock_guard lock(mutex);
    heard.push_back(what);
    changed.notify_all();
  });
  if (test::backend_name() == "sqlite") {
    CHECK_FALSE(watching);  // one host: the auth cache's lifetime is the bound
    return;
  }
  REQUIRE(watching);
  auto count = [&](const std::string& what) {
    return std::count(heard.begin(), heard.end(), what);
  };
  auto wait_for = [&](const std::string& what, long times = 1) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 20s, [&] { return count(what) >= times; });
  };
  const std::string token = "token:" + std::to_string(made.token.id);
  const std::string user = "user:" + std::to_string(ada.id);
  // Listening: whatever happened before is unknown, so the first word is "forget everything".
  REQUIRE(wait_for(""));
  // Usage and new rows change no answer: no notice (they would arrive before the next one).
  REQUIRE(f.store->record_usage(made.token, k_now));
  f.token(ada.id, "second");
  REQUIRE(f.store->revoke_token(made.token.id));
  CHECK(wait_for(token));
  REQUIRE(f.store->set_user_active("ada@example.com", false));
  CHECK(wait_for(user));
  REQUIRE(f.store->revoke_jti("jwt-1", std::nullopt, "", k_now));
  CHECK(wait_for("jti"));
  {
    std::lock_guard lock(mutex);
    CHECK(heard == std::vector<std::string>{"", token, user, "jti"});
  }
  // Changes made behind mcpd's back (psql) are told too: the database's triggers send them.
  f.db->raw_exec("DELETE FROM users");
  CHECK(wait_for(user, 2));
  CHECK(wait_for(token, 2));
  // A lost connection is re-established, and the listener hears "forget everything" again.
  f.db->drop_connections();
  CHECK(wait_for("", 2));
  REQUIRE(f.store->revoke_jti("jwt-2", std::nullopt, "", k_now));
  CHECK(wait_for("jti", 2));
}
