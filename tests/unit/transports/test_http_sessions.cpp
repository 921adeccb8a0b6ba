// HTTP sessions and the session registry through their interfaces: ids, owners, the session
// limit, removal, idle eviction (the sweep is given the time, so nothing waits), concurrent use,
// and the standalone GET stream's bookkeeping. Exchanges without a connection stand in for
// clients where only the session's decisions are under test; what reaches a real client is in
// test_http_streamable.cpp.

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "core/observability/metrics.hpp"
#include "transports/http/sessions.hpp"

using namespace mcpd;
using namespace mcpd::transports::http;
using namespace std::chrono_literals;
using Clock = HttpSession::Clock;

namespace {

SessionOptions options_with(std::size_t max_sessions = 100,
                            std::chrono::seconds idle_timeout = 1800s) {
  SessionOptions options;
  options.max_sessions = max_sessions;
  options.idle_timeout = idle_timeout;
  options.resume_window = 30s;
  return options;
}

// An exchange whose connection is gone: it accepts a stream head (nothing is written), which is
// all a session needs to count a stream as attached.
struct Exchanges {
  boost::asio::io_context ioc;
  std::uint64_t serial = 0;
  std::shared_ptr<Exchange> make() {
    return std::make_shared<Exchange>(std::weak_ptr<Connection>(), ioc.get_executor(), ++serial,
                                      true, false, false);
  }
};

long active_sessions(const core::Metrics& metrics) {
  const auto rendered = metrics.render_json();
  const auto it = rendered.find("mcp_active_sessions");
  if (it == rendered.end()) return -1;
  if (it->is_number()) return it->get<long>();
  if (it->is_array() && !it->empty()) return (*it)[0]["value"].get<long>();
  return it->value("value", -1L);
}

}  // namespace

TEST_CASE("sessions: create and find by id and owner", "[transports][http][sessions]") {
  SessionRegistry registry(options_with(), nullptr);
  const auto alice = registry.create(HttpSession::Kind::streamable, "alice", {});
  const auto bob = registry.create(HttpSession::Kind::streamable, "bob", {});
  REQUIRE(alice);
  REQUIRE(bob);
  CHECK(alice->id() != bob->id());
  CHECK(alice->id().size() == 64);
  CHECK(registry.size() == 2);

  CHECK(registry.find(alice->id(), "alice") == alice);
  CHECK(registry.find(bob->id(), "bob") == bob);
  // Someone else's session does not exist for them (404, not 403).
  CHECK_FALSE(registry.find(alice->id(), "bob"));
  CHECK_FALSE(registry.find(alice->id(), ""));
  // An id the registry never issued.
  CHECK_FALSE(registry.find(std::string(64, '0'), "alice"));
  CHECK_FALSE(registry.find("", "alice"));
}

TEST_CASE("sessions: ids are unique", "[transports][http][sessions]") {
  SessionRegistry registry(options_with(1000), nullptr);
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i)
    ids.insert(registry.create(HttpSession::Kind::streamable, "", {})->id());
  CHECK(ids.size() == 500);
}

TEST_CASE("sessions: the limit refuses new sessions until one ends",
          "[transports][http][sessions]") {
  core::Metrics metrics;
  SessionRegistry registry(options_with(3), &metrics);
  std::vector<std::shared_ptr<HttpSession>> sessions;
  for (int i = 0; i < 3; ++i)
    sessions.push_back(registry.create(HttpSession::Kind::streamable, "", {}));
  for (const auto& session : sessions) REQUIRE(session);
  CHECK(active_sessions(metrics) == 3);
  CHECK_FALSE(registry.create(HttpSession::Kind::streamable, "", {}));
  CHECK_FALSE(registry.create(HttpSession::Kind::legacy, "", {}));
  CHECK(registry.size() == 3);

  registry.remove(sessions[1]->id());
  CHECK(active_sessions(metrics) == 2);
  CHECK(registry.create(HttpSession::Kind::streamable, "", {}));
  CHECK(registry.size() == 3);
  CHECK(active_sessions(metrics) == 3);
}

TEST_CASE("sessions: removal ends the session, once", "[transports][http][sessions]") {
  core::Metrics metrics;
  SessionRegistry registry(options_with(), &metrics);
  const auto session = registry.create(HttpSession::Kind::streamable, "", {});
  const std::string id = session->id();
  CHECK_FALSE(session->ended());

  registry.remove(id);
  CHECK(session->ended());
  CHECK_FALSE(registry.find(id, ""));
  CHECK(registry.size() == 0);
  registry.remove(id);  // unknown now: nothing happens
  CHECK(active_sessions(metrics) == 0);
}

TEST_CASE("sessions: a session ended elsewhere is not found and is swept",
          "[transports][http][sessions]") {
  SessionRegistry registry(options_with(), nullptr);
  const auto session = registry.create(HttpSession::Kind::legacy, "", {});
  session->end();
  CHECK_FALSE(registry.find(session->id(), ""));
  CHECK(registry.size() == 1);
  registry.sweep();
  CHECK(registry.size() == 0);
}

TEST_CASE("sessions: idle sessions are evicted after the idle timeout",
          "[transports][http][sessions]") {
  SessionRegistry registry(options_with(100, 60s), nullptr);
  const auto idle = registry.create(HttpSession::Kind::streamable, "", {});
  const auto legacy = registry.create(HttpSession::Kind::legacy, "", {});
  const auto start = Clock::now();

  registry.sweep(start + 30s);
  CHECK(registry.size() == 2);
  CHECK_FALSE(idle->ended());

  registry.sweep(start + 61s);
  CHECK(idle->ended());
  CHECK_FALSE(registry.find(idle->id(), ""));
  // A legacy session lives as long as its event stream, however quiet.
  CHECK(registry.find(legacy->id(), ""));
  CHECK(registry.size() == 1);
}

TEST_CASE("sessions: activity postpones eviction", "[transports][http][sessions]") {
  const auto options = options_with(100, 60s);
  auto session = HttpSession::create(HttpSession::Kind::streamable, "id", "", {}, options);
  const auto created = Clock::now();
  CHECK(session->sweep(created + 61s));
  // touch() counts from now: 61 s after creation is no longer 61 s after the last request.
  session->touch();
  const auto touched = Clock::now();
  CHECK_FALSE(session->sweep(touched + 59s));
  CHECK(session->sweep(touched + 61s));
}

TEST_CASE("sessions: a session with an open GET stream is not idle",
          "[transports][http][sessions]") {
  Exchanges exchanges;
  const auto options = options_with(100, 60s);
  auto session = HttpSession::create(HttpSession::Kind::streamable, "id", "", {}, options);
  REQUIRE(session->open_standalone(exchanges.make(), "2025-11-25"));
  CHECK_FALSE(session->sweep(Clock::now() + 2h));
}

TEST_CASE("sessions: one GET stream per session", "[transports][http][sessions]") {
  Exchanges exchanges;
  auto session = HttpSession::create(HttpSession::Kind::streamable, "id", "", {}, options_with());
  CHECK(session->open_standalone(exchanges.make(), "2025-11-25"));
  CHECK_FALSE(session->open_standalone(exchanges.make(), "2025-11-25"));  // 409
  // A stream id the session never issued cannot be resumed; the standalone one can be reopened
  // only once its connection is gone.
  CHECK(session->resume(exchanges.make(), "7-3") == EventStream::Resume::gone);
  CHECK(session->resume(exchanges.make(), "not-an-id") == EventStream::Resume::gone);
  CHECK(session->resume(exchanges.make(), "0-0") == EventStream::Resume::conflict);

  session->end();
  CHECK(session->ended());
  CHECK_FALSE(session->open_standalone(exchanges.make(), "2025-11-25"));
  CHECK(session->resume(exchanges.make(), "0-0") == EventStream::Resume::gone);
}

TEST_CASE("sessions: event ids", "[transports][http][sessions]") {
  CHECK(EventStream::event_id(3, 14) == "3-14");
  const auto parsed = EventStream::parse_event_id("3-14");
  REQUIRE(parsed);
  CHECK(parsed->first == 3);
  CHECK(parsed->second == 14);
  CHECK_FALSE(EventStream::parse_event_id(""));
  CHECK_FALSE(EventStream::parse_event_id("3"));
  CHECK_FALSE(EventStream::parse_event_id("-1"));
  CHECK_FALSE(EventStream::parse_event_id("a-b"));
  CHECK_FALSE(EventStream::parse_event_id("1-2-3"));
}

TEST_CASE("sessions: ending a session cancels its calls", "[transports][http][sessions]") {
  SessionRegistry registry(options_with(), nullptr);
  const auto session = registry.create(HttpSession::Kind::streamable, "", {});
  const auto token = session->core().begin_request(5);
  REQUIRE(token);
  CHECK_FALSE(token->cancelled());
  // Busy: not idle, however long ago the last request came.
  CHECK_FALSE(session->sweep(Clock::now() + 24h));
  registry.remove(session->id());
  CHECK(token->cancelled());
}

TEST_CASE("sessions: shutdown cancels stateless calls too", "[transports][http][sessions]") {
  SessionRegistry registry(options_with(), nullptr);
  auto stateless =
      HttpSession::create(HttpSession::Kind::stateless, {}, {}, {}, registry.options());
  registry.track_ephemeral(stateless);
  const auto token = stateless->core().begin_request("x");
  REQUIRE(token);
  CHECK(registry.size() == 0);  // not a registered session
  registry.cancel_ephemeral();
  CHECK(token->cancelled());
}

TEST_CASE("sessions: concurrent create, find and remove keep the registry consistent",
          "[transports][http][sessions]") {
  constexpr std::size_t k_max = 40;
  constexpr int k_threads = 8;
  constexpr int k_rounds = 300;
  core::Metrics metrics;
  SessionRegistry registry(options_with(k_max), &metrics);
  std::atomic<int> refused{0};
  std::atomic<int> over_limit{0};
  std::atomic<int> lost{0};
  std::vector<std::vector<std::string>> kept(k_threads);

  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "owner-" + std::to_string(t);
      for (int i = 0; i < k_rounds; ++i) {
        const auto session = registry.create(HttpSession::Kind::streamable, owner, {});
        if (registry.size() > k_max) ++over_limit;
        if (!session) {
          ++refused;
          continue;
        }
        if (registry.find(session->id(), owner) != session) ++lost;
        if (registry.find(session->id(), "someone-else")) ++lost;
        if (i % 100 == 0) {
          kept[t].push_back(session->id());  // stays (3 per thread: under the limit)
        } else {
          registry.remove(session->id());
          if (registry.find(session->id(), owner)) ++lost;
        }
        if (i % 20 == 0) registry.sweep();
      }
    });
  }
  for (auto& thread : threads) thread.join();

  CHECK(over_limit == 0);
  CHECK(lost == 0);
  std::size_t kept_count = 0;
  for (int t = 0; t < k_threads; ++t) {
    for (const auto& id : kept[t]) CHECK(registry.find(id, "owner-" + std::to_string(t)));
    kept_count += kept[t].size();
  }
  CHECK(registry.size() == kept_count);
  CHECK(kept_count == 3 * k_threads);
  CHECK(active_sessions(metrics) == static_cast<long>(kept_count));
  // At most 24 kept + 8 in passing are alive at once: under the limit, nothing is refused.
  CHECK(refused == 0);
}
