// Opaque tokens and JWTs through one authenticator, on a real SQLite store: routing by shape,
// revoked jtis (honoured within the cache TTL), disabled users, storage failures, stdio.
#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "../core/test_jwt_support.hpp"
#include "core/config/error.hpp"
#include "storage/bearer_authenticator.hpp"
#include "storage/identity_provider.hpp"
#include "storage/token_service.hpp"

using namespace mcpd;
using namespace mcpd::storage;
using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;
using test::json;

namespace {

struct Fixture {
  std::filesystem::path dir;
  std::string db_path;
  std::shared_ptr<TokenStore> store;
  SystemClock::time_point now = std::chrono::floor<std::chrono::seconds>(SystemClock::now());
  std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mcpd-jwt-XXXXXX").string();
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

  JwtAuthenticator::Clock clock() {
    return [this] { return now; };
  }

  std::shared_ptr<JwtAuthenticator> jwt(AuthCacheOptions options = {}) {
    core::auth::JwtVerifier verifier({"HS256", test::k_secret, ""}, {}, clock());
    return std::make_shared<JwtAuthenticator>(store, std::move(verifier), options, clock());
  }

  std::shared_ptr<BearerAuthenticator> bearer(bool with_jwt = true) {
    auto opaque = std::make_shared<CachedAuthenticator>(store, core::auth::TokenHasher{},
                                                        AuthCacheOptions{}, clock());
    return std::make_shared<BearerAuthenticator>(opaque, with_jwt ? jwt() : nullptr);
  }

  std::string token(json extra = json::object()) {
    json payload = {{"sub", "alice@example.com"}, {"exp", now_s + 600}, {"jti", "jwt-1"}};
    payload.update(extra);
    return test::hs256_jwt(payload);
  }

  std::string opaque() {
    TokenRequest request;
    request.user_email = "alice@example.com";
    request.name = "laptop";
    auto issued =
        issue_token(*store, core::auth::TokenHasher{}, request, core::auth::now_seconds());
    REQUIRE(issued);
    return issued->plaintext;
  }

  void break_storage() {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE revoked_jtis RENAME TO revoked_away");
  }
  void repair_storage() {
    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    db.exec("ALTER TABLE revoked_away RENAME TO revoked_jtis");
  }
};

}  // namespace

TEST_CASE("opaque tokens and JWTs work side by side", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.bearer();
  const auto from_jwt = auth->authenticate(f.token({{"tools", {"echo"}}}));
  REQUIRE(from_jwt.identity);
  CHECK(from_jwt.identity->user == "alice@example.com");
  CHECK(from_jwt.identity->token_name == "jwt");
  CHECK(from_jwt.identity->allowed_tools == std::vector<std::string>{"echo"});

  const auto from_opaque = auth->authenticate(f.opaque());
  REQUIRE(from_opaque.identity);
  CHECK(from_opaque.identity->token_name == "laptop");

  CHECK(auth->authenticate("").reason == "missing");
  CHECK(auth->authenticate("garbage").reason == "malformed");
  CHECK(auth->authenticate(f.token() + "x").reason == "jwt_signature");
  CHECK(auth->authenticate("a.b.c.d").reason == "jwt_malformed");
  CHECK(auth->authenticate(f.token({{"exp", f.now_s - 10}})).reason == "jwt_expired");
  CHECK_FALSE(auth->protected_resource());
}

TEST_CASE("a JWT without JWT configured is refused with its own reason", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.bearer(false);
  CHECK(auth->authenticate(f.token()).reason == "jwt_disabled");
  CHECK(auth->authenticate(f.opaque()).identity);
}

TEST_CASE("a revoked jti is refused within the cache TTL", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.jwt();
  const auto token = f.token();
  REQUIRE(auth->authenticate(token).identity);
  REQUIRE(f.store->revoke_jti("jwt-1", std::nullopt, "", core::auth::now_seconds()));
  // Still cached for a moment...
  CHECK(auth->authenticate(token).identity);
  // ...and refused once the 2 s TTL passed (PRODUCT: within 5 s everywhere).
  f.now += 2s;
  const auto refused = auth->authenticate(token);
  CHECK_FALSE(refused.identity);
  CHECK(refused.reason == "jwt_revoked");
  CHECK_FALSE(refused.storage_unavailable);
  // Other tokens of the same user are unaffected.
  CHECK(auth->authenticate(f.token({{"jti", "jwt-2"}})).identity);
  // A token without a jti cannot be revoked by id, and is accepted.
  auto without = json{{"sub", "alice@example.com"}, {"exp", f.now_s + 600}};
  CHECK(auth->authenticate(test::hs256_jwt(without)).identity);
}

TEST_CASE("a JWT whose subject is a disabled user is refused", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.jwt({0ms});
  REQUIRE(auth->authenticate(f.token()).identity);
  REQUIRE(f.store->set_user_active("alice@example.com", false));
  CHECK(auth->authenticate(f.token()).reason == "user_inactive");
  CHECK(auth->authenticate(f.token({{"sub", "ALICE@example.com"}})).reason == "user_inactive");
  // Subjects that are not in the users table need no account.
  CHECK(auth->authenticate(f.token({{"sub", "bob@example.com"}})).identity);
  CHECK(auth->authenticate(f.token({{"sub", "service-account-7"}})).identity);
  REQUIRE(f.store->set_user_active("alice@example.com", true));
  CHECK(auth->authenticate(f.token()).identity);
}

TEST_CASE("a cached JWT answer never outlives the token's exp", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.jwt({10s});
  const auto token = f.token({{"exp", f.now_s + 1}});
  REQUIRE(auth->authenticate(token).identity);
  f.now += 1s;
  CHECK(auth->authenticate(token).reason == "jwt_expired");
}

TEST_CASE("storage failures fail closed for JWTs and are not cached", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.jwt();
  f.break_storage();
  const auto outcome = auth->authenticate(f.token());
  CHECK_FALSE(outcome.identity);
  CHECK(outcome.storage_unavailable);
  CHECK(outcome.reason == "unavailable");
  f.repair_storage();
  CHECK(auth->authenticate(f.token()).identity);
}

TEST_CASE("make_authenticator builds from settings and offers RFC 9728 metadata",
          "[storage][auth][jwt]") {
  Fixture f;
  core::Settings settings;
  settings.name = "shop";
  CHECK_FALSE(make_authenticator(settings, f.store)->protected_resource());

  settings.jwt.enabled = true;
  settings.jwt.secret = test::k_secret;
  settings.jwt.issuer = "https://auth.example.com";
  settings.jwt.audience = "https://mcp.example.com/mcp";
  auto auth = make_authenticator(settings, f.store);
  const auto resource = auth->protected_resource();
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

TEST_CASE("stdio: MCPD_TOKEN may be a JWT, re-checked on every resolve", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.bearer();
  // Uncached authenticators, as serve.cpp builds them for stdio.
  auto jwt = f.jwt({0ms});
  auto opaque = std::make_shared<CachedAuthenticator>(f.store, core::auth::TokenHasher{},
                                                      AuthCacheOptions{0ms}, f.clock());
  auto uncached = std::make_shared<BearerAuthenticator>(opaque, jwt);
  IdentityProvider provider(uncached, f.token({{"tools", {"echo"}}}));
  auto identity = provider.resolve();
  REQUIRE(identity.valid);
  CHECK(identity.user == "alice@example.com");
  CHECK(identity.allowed_tools == std::vector<std::string>{"echo"});
  CHECK_FALSE(provider.last_failure());

  REQUIRE(f.store->revoke_jti("jwt-1", std::nullopt, "", core::auth::now_seconds()));
  identity = provider.resolve();
  CHECK_FALSE(identity.valid);
  CHECK(identity.invalid_reason == "JWT revoked");
  CHECK(provider.last_failure() == core::auth::AuthFailure::unknown);

  IdentityProvider expired(uncached, f.token({{"exp", f.now_s - 1}}));
  CHECK(expired.resolve().invalid_reason == "JWT expired");

  // Opaque tokens through the same path keep their wording.
  const auto plaintext = f.opaque();
  IdentityProvider from_opaque(uncached, plaintext);
  REQUIRE(from_opaque.resolve().valid);
  auto tokens = f.store->list_tokens({});
  REQUIRE(tokens);
  REQUIRE(f.store->revoke_token(tokens->front().id));
  CHECK(from_opaque.resolve().invalid_reason == "token revoked");
  CHECK(from_opaque.last_failure() == core::auth::AuthFailure::revoked);
  (void)auth;
}

TEST_CASE("try_cached answers JWTs inline only from a fresh cache entry", "[storage][auth][jwt]") {
  Fixture f;
  auto auth = f.bearer();
  const auto token = f.token({{"exp", f.now_s + 1}});
  CHECK(auth->try_cached("")->reason == "missing");
  CHECK_FALSE(auth->try_cached(token));  // miss: the signature is checked off the I/O thread
  REQUIRE(auth->authenticate(token).identity);
  const auto hit = auth->try_cached(token);
  REQUIRE(hit);
  REQUIRE(hit->identity);
  CHECK(hit->identity->user == "alice@example.com");
  // A near-miss credential never matches the cached one.
  CHECK_FALSE(auth->try_cached(token + "x"));
  // The entry lasts the TTL (2 s) but never past the token's exp.
  f.now += 1s;
  CHECK_FALSE(auth->try_cached(token));
  CHECK(auth->authenticate(token).reason == "jwt_expired");

  auto without_jwt = f.bearer(false);
  CHECK(without_jwt->try_cached(f.token())->reason == "jwt_disabled");
}
