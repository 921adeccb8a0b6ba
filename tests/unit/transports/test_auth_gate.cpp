// The HTTP auth gate through its interface: real connections on an ephemeral port (Listener,
// Connection, Exchange), a blocking Beast client, the real Authenticator over the in-memory
// TokenStore with an injected clock. What each refusal answers (status, challenge, Retry-After),
// what it counts, and that cached answers are decided without a lookup.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "../core/test_jwt_support.hpp"
#include "core/auth/token_service.hpp"
#include "memory_token_store.hpp"
#include "transports/http/auth_gate.hpp"
#include "transports/http/listener.hpp"

using namespace mcpd;
using namespace mcpd::transports::http;
using namespace std::chrono_literals;
namespace beast = boost::beast;
using SystemClock = std::chrono::system_clock;
using Reply = beast::http::response<beast::http::string_body>;

namespace {

struct GateOptions {
  bool require_auth = true;
  bool jwt = false;
};

// One gate behind a real listener on 127.0.0.1:0. A request that passes the gate is answered
// 200 with the caller as JSON.
class Harness {
 public:
  explicit Harness(GateOptions options = {}) {
    REQUIRE(store->add_user("alice@example.com", "Alice"));
    core::auth::Authenticator::Options auth;
    auth.clock = [this] { return now.load(); };
    if (options.jwt) {
      auth.jwt = core::auth::JwtVerifier({"HS256", test::k_secret, ""}, {}, auth.clock);
      auth.resource = core::auth::ProtectedResource{{}, {"https://auth.example.com"}, "shop"};
    }
    authenticator = std::make_shared<core::auth::Authenticator>(store, std::move(auth));
    m_gate = std::make_unique<AuthGate>(options.require_auth, authenticator, m_limiter,
                                        m_failure_limiter, &metrics, m_pool);
    auto handler = [this](std::shared_ptr<Exchange> exchange,
                          std::shared_ptr<IncomingRequest> request) {
      request->client = client_address(request->peer, request->header("X-Forwarded-For"));
      m_gate->check(exchange, request,
                    [](const std::shared_ptr<Exchange>& exchange,
                       const std::shared_ptr<IncomingRequest>&, Caller caller) {
        std::string rate_key;
        caller.rate_key(rate_key);
        exchange->respond(
            json_response(200, {{"user", caller.identity->user.value_or("")},
                                {"token_name", caller.identity->token_name.value_or("")},
                                {"tools", caller.identity->allowed_tools},
                                {"owner", caller.owner()},
                                {"rate_key", rate_key}}));
      });
    };
    auto context = [this]() -> boost::asio::io_context& { return m_ioc; };
    m_listener = std::make_shared<Listener>(context, bind_acceptor(m_ioc, "127.0.0.1", 0), m_limits,
                                            handler, nullptr, m_connections);
    m_listener->start();
    m_io = std::thread([this] { m_ioc.run(); });
  }

  ~Harness() {
    m_listener->stop();
    m_connections.shut_down_all();
    m_ioc.stop();
    m_io.join();
    m_pool.join();
  }

  Reply get(const std::string& target, std::optional<std::string> authorization = {}) {
    namespace http = beast::http;
    boost::asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect({boost::asio::ip::address_v4::loopback(), m_listener->info().port});
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, m_listener->info().address);
    if (authorization) request.set(http::field::authorization, *authorization);
    http::write(socket, request);
    beast::flat_buffer buffer;
    Reply reply;
    http::read(socket, buffer, reply);
    return reply;
  }
  Reply get_with(const std::string& token) { return get("/mcp", "Bearer " + token); }

  std::string issue(std::vector<std::string> tools = {}) {
    core::auth::TokenRequest request{"alice@example.com", "laptop-" + std::to_string(++m_issued),
                                     std::move(tools), std::nullopt};
    auto issued = core::auth::issue_token(*store, {}, request, core::auth::now_seconds());
    REQUIRE(issued);
    m_ids.push_back(issued->token.id);
    return issued->plaintext;
  }
  std::int64_t last_id() const { return m_ids.back(); }

  long failures(const std::string& reason) const {
    const auto rendered = metrics.render_json();
    for (const auto& series : rendered["mcp_auth_failures_total"])
      if (series["labels"]["reason"] == reason) return series["value"].get<long>();
    return 0;
  }

  std::shared_ptr<test::MemoryTokenStore> store = std::make_shared<test::MemoryTokenStore>();
  std::shared_ptr<core::auth::Authenticator> authenticator;
  core::Metrics metrics;
  // Read by the authenticator on the worker and I/O threads; only changed between requests.
  std::atomic<SystemClock::time_point> now{SystemClock::now()};

 private:
  boost::asio::io_context m_ioc;
  BoundedPool m_pool{"auxiliary", 1, 64};
  core::RateLimiter m_limiter;
  core::RateLimiter m_failure_limiter{core::RateLimiter::auth_failure_defaults()};
  ConnectionLimits m_limits;
  ConnectionSet m_connections;
  std::unique_ptr<AuthGate> m_gate;
  std::shared_ptr<Listener> m_listener;
  std::thread m_io;
  int m_issued = 0;
  std::vector<std::int64_t> m_ids;
};

nlohmann::json body_of(const Reply& reply) {
  return nlohmann::json::parse(reply.body());
}

std::string header(const Reply& reply, beast::http::field field) {
  return std::string(reply[field]);
}

}  // namespace

TEST_CASE("gate: without authentication every request passes, keyed by address",
          "[transports][http][auth]") {
  Harness h({.require_auth = false});
  const auto reply = h.get("/mcp");
  REQUIRE(reply.result_int() == 200);
  CHECK(body_of(reply)["user"] == "");
  CHECK(body_of(reply)["owner"] == "");
  CHECK(body_of(reply)["rate_key"] == "ip:127.0.0.1");
  CHECK(h.store->lookups() == 0);
}

TEST_CASE("gate: a valid token is admitted with its identity, then served from the cache",
          "[transports][http][auth]") {
  Harness h;
  const auto token = h.issue({"echo"});
  const auto reply = h.get_with(token);
  REQUIRE(reply.result_int() == 200);
  const auto caller = body_of(reply);
  CHECK(caller["user"] == "alice@example.com");
  CHECK(caller["token_name"] == "laptop-1");
  CHECK(caller["tools"] == nlohmann::json{"echo"});
  CHECK(caller["owner"] == "alice@example.com\nlaptop-1");
  CHECK(caller["rate_key"] == "token:alice@example.com\nlaptop-1");
  CHECK(h.store->lookups() == 1);

  // The same token again, within the cache lifetime: decided inline, no lookup.
  CHECK(h.get_with(token).result_int() == 200);
  CHECK(h.store->lookups() == 1);
  // The scheme is case-insensitive.
  CHECK(h.get("/mcp", "bearer " + token).result_int() == 200);
}

TEST_CASE("gate: a missing token is challenged and not held against the address",
          "[transports][http][auth]") {
  Harness h;
  for (int i = 0; i < 15; ++i) {  // more than the failed-attempt limiter's burst
    const auto reply = h.get("/mcp");
    REQUIRE(reply.result_int() == 401);
    CHECK(header(reply, beast::http::field::www_authenticate) == "Bearer realm=\"mcpd\"");
  }
  CHECK(h.failures("missing") == 15);
}

TEST_CASE("gate: bad headers and bad tokens are 401 invalid_token, counted by reason",
          "[transports][http][auth]") {
  Harness h;
  const auto bad_scheme = h.get("/mcp", "Basic YWxhZGRpbjpvcGVuc2VzYW1l");
  CHECK(bad_scheme.result_int() == 401);
  CHECK(header(bad_scheme, beast::http::field::www_authenticate).find("error=\"invalid_token\"") !=
        std::string::npos);
  CHECK(h.failures("malformed") == 1);

  CHECK(h.get_with("mcpd_not-a-real-token").result_int() == 401);
  CHECK(h.failures("malformed") == 2);
  CHECK(h.get_with(core::auth::generate_token()).result_int() == 401);
  CHECK(h.failures("unknown") == 1);
  CHECK(h.store->lookups() == 1);  // only the well-formed one was looked up
}

TEST_CASE("gate: a credential in the query string is refused with 400 and never used",
          "[transports][http][auth]") {
  Harness h;
  const auto token = h.issue();
  const auto reply = h.get("/mcp?access_token=" + token, "Bearer " + token);
  CHECK(reply.result_int() == 400);
  CHECK(body_of(reply)["error"] == "invalid_request");
  CHECK(header(reply, beast::http::field::www_authenticate) ==
        "Bearer realm=\"mcpd\", error=\"invalid_request\"");
  CHECK(h.failures("query_token") == 1);
  CHECK(h.store->lookups() == 0);
}

TEST_CASE("gate: revocation is seen once the cache lifetime has passed",
          "[transports][http][auth]") {
  Harness h;
  const auto token = h.issue();
  REQUIRE(h.get_with(token).result_int() == 200);
  REQUIRE(h.store->revoke_token(h.last_id()));
  CHECK(h.get_with(token).result_int() == 200);  // the cached answer still stands
  h.now = h.now.load() + 2s;
  const auto reply = h.get_with(token);
  CHECK(reply.result_int() == 401);
  CHECK(h.failures("revoked") == 1);
}

TEST_CASE("gate: storage trouble fails closed with 503 and recovers", "[transports][http][auth]") {
  Harness h;
  const auto token = h.issue();
  h.store->set_down(true);
  for (int i = 0; i < 12; ++i) {  // never held against the caller's address
    const auto reply = h.get_with(token);
    REQUIRE(reply.result_int() == 503);
    CHECK(header(reply, beast::http::field::retry_after) == "5");
    CHECK(body_of(reply)["error"] == "unavailable");
  }
  CHECK(h.failures("unavailable") == 12);
  h.store->set_down(false);
  CHECK(h.get_with(token).result_int() == 200);
}

TEST_CASE("gate: an address that keeps failing is stopped before any lookup",
          "[transports][http][auth]") {
  Harness h;
  int refused = 0;
  for (int i = 0; i < 12 && refused == 0; ++i) {
    const auto reply = h.get_with(core::auth::generate_token());
    if (reply.result_int() == 429) {
      ++refused;
      CHECK_FALSE(header(reply, beast::http::field::retry_after).empty());
    } else {
      CHECK(reply.result_int() == 401);
    }
  }
  REQUIRE(refused == 1);
  const int lookups = h.store->lookups();
  // Even a valid token from that address waits now, and costs no lookup.
  CHECK(h.get_with(h.issue()).result_int() == 429);
  CHECK(h.store->lookups() == lookups);
}

TEST_CASE("gate: a token found valid lately is still looked up while its address is limited",
          "[transports][http][auth]") {
  // Behind a proxy that does not forward client addresses, one client guessing must not lock
  // out the others once their tokens' cache entries (2 s) have expired.
  Harness h;
  const auto known = h.issue();
  const auto known_id = h.last_id();
  REQUIRE(h.get_with(known).result_int() == 200);
  const auto unseen = h.issue();  // valid, but never presented from here
  int refused = 0;
  for (int i = 0; i < 12 && refused == 0; ++i)
    if (h.get_with(core::auth::generate_token()).result_int() == 429) ++refused;
  REQUIRE(refused == 1);

  h.now = h.now.load() + 3s;  // the cached answer is stale: a lookup decides
  int lookups = h.store->lookups();
  CHECK(h.get_with(known).result_int() == 200);
  CHECK(h.store->lookups() == lookups + 1);
  // A token nobody here has seen valid is a guess like any other: it waits, with no lookup.
  lookups = h.store->lookups();
  CHECK(h.get_with(unseen).result_int() == 429);
  CHECK(h.store->lookups() == lookups);

  // Revoked: the lookup refuses it, and from then on it is no longer vouched for.
  REQUIRE(h.store->revoke_token(known_id));
  h.now = h.now.load() + 3s;
  CHECK(h.get_with(known).result_int() == 401);
  h.now = h.now.load() + 3s;
  lookups = h.store->lookups();
  CHECK(h.get_with(known).result_int() == 429);
  CHECK(h.store->lookups() == lookups);
}

TEST_CASE("gate: JWTs beside opaque tokens, challenges point at the resource metadata",
          "[transports][http][auth][jwt]") {
  Harness h({.jwt = true});
  const auto exp =
      std::chrono::duration_cast<std::chrono::seconds>(SystemClock::now().time_since_epoch() + 600s)
          .count();
  const auto jwt = test::hs256_jwt({{"sub", "alice@example.com"}, {"exp", exp}});
  const auto from_jwt = h.get_with(jwt);
  REQUIRE(from_jwt.result_int() == 200);
  CHECK(body_of(from_jwt)["token_name"] == "jwt");
  CHECK(h.get_with(h.issue()).result_int() == 200);

  const auto refused = h.get_with(jwt + "x");
  CHECK(refused.result_int() == 401);
  CHECK(h.failures("jwt_signature") == 1);
  const auto challenge = header(refused, beast::http::field::www_authenticate);
  CHECK_THAT(challenge, Catch::Contains("resource_metadata=\"http://127.0.0.1:"));
  CHECK_THAT(challenge, Catch::Contains("/.well-known/oauth-protected-resource/mcp\""));
  CHECK_THAT(challenge, Catch::Contains("error=\"invalid_token\""));
}
