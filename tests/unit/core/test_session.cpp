#include <poll.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/protocol/call.hpp"
#include "core/protocol/session.hpp"

using namespace mcpd::core;

namespace {

// Collects what the session sends to the client; lets a test wait for a message.
class Outbox {
 public:
  void push(const json& message) {
    std::lock_guard lock(m_mutex);
    m_messages.push_back(message);
    m_cv.notify_all();
  }
  std::vector<json> messages() const {
    std::lock_guard lock(m_mutex);
    return m_messages;
  }
  json wait_for_message(std::size_t index) {
    std::unique_lock lock(m_mutex);
    const bool arrived =
        m_cv.wait_for(lock, std::chrono::seconds(30), [&] { return m_messages.size() > index; });
    REQUIRE(arrived);
    return m_messages[index];
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<json> m_messages;
};

bool readable(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

}  // namespace

TEST_CASE("Identity allows tools by allow-list and validity", "[core][session]") {
  Identity everyone;
  CHECK(everyone.can_use_tool("anything"));

  Identity limited;
  limited.allowed_tools = {"a", "b"};
  CHECK(limited.can_use_tool("a"));
  CHECK_FALSE(limited.can_use_tool("c"));

  Identity revoked;
  revoked.valid = false;
  revoked.invalid_reason = "token revoked";
  CHECK_FALSE(revoked.can_use_tool("a"));
}

TEST_CASE("CancelToken sets its flag and makes its eventfd readable once", "[core][session]") {
  CancelToken token;
  REQUIRE(token.fd() >= 0);
  CHECK_FALSE(token.cancelled());
  CHECK_FALSE(readable(token.fd()));
  token.cancel();
  token.cancel();  // idempotent
  CHECK(token.cancelled());
  CHECK(readable(token.fd()));
}

TEST_CASE("Session lifecycle, identity and capabilities", "[core][session]") {
  Outbox outbox;
  Session session([&](const json& m) { outbox.push(m); });
  CHECK_FALSE(session.initialized());
  CHECK(session.protocol_version().empty());

  session.set_initialized("2025-06-18", json{{"roots", json::object()}}, json{{"name", "client"}});
  CHECK(session.initialized());
  CHECK(session.protocol_version() == "2025-06-18");
  CHECK(session.client_capabilities().contains("roots"));
  CHECK(session.client_info()["name"] == "client");

  Session stateless([](const json&) {});
  stateless.assume_initialized("2025-11-25");
  CHECK(stateless.initialized());
  CHECK(stateless.protocol_version() == "2025-11-25");
  CHECK(stateless.client_capabilities().is_null());  // nothing declared

  Identity identity;
  identity.user = "ada@example.com";
  session.set_identity(identity);
  CHECK(session.identity()->user == "ada@example.com");
}

TEST_CASE("Session log level filters by RFC 5424 severity", "[core][session]") {
  Session session([](const json&) {});
  CHECK(session.log_enabled("debug"));  // everything until the client sets a level
  session.set_log_level("warning");
  CHECK_FALSE(session.log_enabled("debug"));
  CHECK_FALSE(session.log_enabled("notice"));
  CHECK(session.log_enabled("warning"));
  CHECK(session.log_enabled("emergency"));
  CHECK_FALSE(session.log_enabled("verbose"));
  session.set_log_level("nonsense");  // ignored
  CHECK(session.log_enabled("warning"));
}

TEST_CASE("Session subscriptions", "[core][session]") {
  Session session([](const json&) {});
  session.subscribe("mem://a");
  session.subscribe("mem://b");
  CHECK(session.subscribed("mem://a"));
  session.unsubscribe("mem://a");
  CHECK_FALSE(session.subscribed("mem://a"));
  CHECK(session.subscriptions() == std::set<std::string>{"mem://b"});
}

TEST_CASE("Session tracks in-flight requests and cancels them", "[core][session]") {
  Session session([](const json&) {});
  auto first = session.begin_request(1);
  REQUIRE(first);
  CHECK(session.begin_request(1) == nullptr);  // duplicate id
  auto second = session.begin_request("1");    // a string id is a different id
  REQUIRE(second);
  CHECK(session.in_flight() == 2);

  session.cancel_request(1);
  CHECK(first->cancelled());
  CHECK_FALSE(second->cancelled());
  session.cancel_request(99);  // not in flight: remembered, cancels nothing running

  session.end_request(1);
  CHECK(session.in_flight() == 1);
  CHECK(session.begin_request(1) != nullptr);  // the id is free again

  session.cancel_all();
  CHECK(second->cancelled());
}

TEST_CASE("A cancellation that overtakes its request cancels it when it starts",
          "[core][session]") {
  Session session([](const json&) {});
  session.cancel_request("queued");
  auto token = session.begin_request("queued");
  REQUIRE(token);
  CHECK(token->cancelled());
  session.end_request("queued");
  CHECK_FALSE(session.begin_request("other")->cancelled());
}

TEST_CASE("Session relays a request to the client and returns its answer", "[core][session]") {
  Outbox outbox;
  Session session([&](const json& m) { outbox.push(m); });
  CancelToken token;

  SECTION("result") {
    std::thread client([&] {
      const json request = outbox.wait_for_message(0);
      CHECK(request["method"] == "roots/list");
      CHECK(request["id"] == "mcpd-1");
      CHECK(request["params"] == json::object());
      CHECK(session.deliver_response(
          json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", {{"roots", json::array()}}}}));
    });
    const json reply = session.send_request("roots/list", json::object(), token);
    client.join();
    CHECK(reply == json{{"result", {{"roots", json::array()}}}});
  }

  SECTION("error") {
    std::thread client([&] {
      const json request = outbox.wait_for_message(0);
      session.deliver_response(json{{"jsonrpc", "2.0"},
                                    {"id", request["id"]},
                                    {"error", {{"code", -1}, {"message", "user declined"}}}});
    });
    const json reply = session.send_request("sampling/createMessage", json::object(), token);
    client.join();
    CHECK(reply["error"]["message"] == "user declined");
  }

  SECTION("ids increase") {
    std::thread client([&] {
      for (std::size_t i = 0; i < 2; ++i) {
        const json request = outbox.wait_for_message(i);
        session.deliver_response(json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", i}});
      }
    });
    CHECK(session.send_request("ping", json::object(), token)["result"] == 0);
    CHECK(session.send_request("ping", json::object(), token)["result"] == 1);
    client.join();
    CHECK(outbox.messages()[1]["id"] == "mcpd-2");
  }
}

TEST_CASE("Session ignores responses nobody waits for", "[core][session]") {
  Session session([](const json&) {});
  CHECK_FALSE(session.deliver_response(json{{"jsonrpc", "2.0"}, {"id", "mcpd-7"}, {"result", 1}}));
  CHECK_FALSE(session.deliver_response(json{{"jsonrpc", "2.0"}, {"result", 1}}));
}

TEST_CASE("A cancelled server-to-client request returns -32800 and tells the client",
          "[core][session]") {
  Outbox outbox;
  Session session([&](const json& m) { outbox.push(m); });
  auto token = session.begin_request(42);

  std::thread canceller([&] {
    const json request = outbox.wait_for_message(0);
    CHECK(request["method"] == "elicitation/create");
    session.cancel_request(42);
  });
  const json reply = session.send_request("elicitation/create", json::object(), *token);
  canceller.join();

  CHECK(reply["error"]["code"] == -32800);
  const json notice = outbox.wait_for_message(1);
  CHECK(notice["method"] == "notifications/cancelled");
  CHECK(notice["params"]["requestId"] == "mcpd-1");
  // A late answer finds nobody waiting.
  CHECK_FALSE(session.deliver_response(json{{"jsonrpc", "2.0"}, {"id", "mcpd-1"}, {"result", 1}}));

  SECTION("an already cancelled token sends nothing") {
    CHECK(session.send_request("roots/list", json::object(), *token)["error"]["code"] == -32800);
    CHECK(outbox.messages().size() == 2);
  }
}

TEST_CASE("A server-to-client request gives up at its deadline", "[core][session]") {
  Outbox outbox;
  Session session([&](const json& m) { outbox.push(m); });
  CancelToken token;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  const json reply = session.send_request("roots/list", json::object(), token, deadline);
  CHECK(reply["error"]["code"] == -32001);
  CHECK(std::chrono::steady_clock::now() >= deadline);
  const json notice = outbox.wait_for_message(1);
  CHECK(notice["method"] == "notifications/cancelled");
  CHECK(notice["params"]["requestId"] == outbox.messages()[0]["id"]);
  CHECK(notice["params"]["reason"] == "request timed out");
}

TEST_CASE("Session survives a sender that throws", "[core][session]") {
  Session session([](const json&) { throw std::runtime_error("connection closed"); });
  session.notify("notifications/message", json::object());
  CancelToken token;
  const json reply = session.send_request("roots/list", json::object(), token);
  CHECK(reply["error"]["code"] == -32603);
}
