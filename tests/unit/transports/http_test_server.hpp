#pragma once
// The HTTP server's request handling, assembled in process the way http_server.cpp does it
// (ServerContext, SessionRegistry, AuthGate without authentication, the worker pools) behind a
// real Listener on 127.0.0.1:0 whose connections are spread over several io_contexts (as with
// --io-threads 3), with the dispatcher test catalog: static tools (greet), exec
// tools that stream (chatty: progress, logs, then the result) or run until cancelled
// (sleeper). Finished tool calls are recorded, so a test can wait for a call to end.

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <future>
#include <thread>

#include "../core/dispatcher_fixture.hpp"
#include "http_test_client.hpp"
#include "transports/http/io_context_pool.hpp"
#include "transports/http/listener.hpp"
#include "transports/http/server_context.hpp"

namespace http_test {

namespace th = mcpd::transports::http;

// Internal linkage, like the dispatcher fixture it holds (one test executable each).
namespace {

// Tool calls as they end.
class CallLog : public mcpd::core::CallObserver {
 public:
  void tool_called(const std::string& tool, bool is_error, double) override {
    std::lock_guard lock(m_mutex);
    m_calls.emplace_back(tool, is_error);
    m_cv.notify_all();
  }
  // The outcome (is_error) of the first finished call of `tool`; nullopt when none ended
  // within `limit`.
  std::optional<bool> wait_for(const std::string& tool, std::chrono::milliseconds limit = k_wait) {
    std::unique_lock lock(m_mutex);
    std::optional<bool> outcome;
    m_cv.wait_for(lock, limit, [&] {
      for (const auto& [name, is_error] : m_calls)
        if (name == tool) return outcome = is_error, true;
      return false;
    });
    return outcome;
  }
  std::size_t count(const std::string& tool) const {
    std::lock_guard lock(m_mutex);
    return static_cast<std::size_t>(std::count_if(
        m_calls.begin(), m_calls.end(), [&](const auto& call) { return call.first == tool; }));
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::pair<std::string, bool>> m_calls;
};

struct ServerOptions {
  bool stateless = false;
  std::size_t max_sessions = 100;
  std::chrono::seconds resume_window{30};
  std::chrono::seconds idle_timeout{1800};
  std::size_t io_threads = 3;  // consecutive connections land on different io_contexts
};

inline th::SessionOptions session_options(const ServerOptions& options,
                                          mcpd::core::Dispatcher& dispatcher) {
  th::SessionOptions sessions;
  sessions.subscriptions = &dispatcher.subscriptions();
  sessions.max_sessions = options.max_sessions;
  sessions.resume_window = options.resume_window;
  sessions.idle_timeout = options.idle_timeout;
  return sessions;
}

inline th::HttpSettings http_settings(const ServerOptions& options) {
  th::HttpSettings settings;
  settings.require_auth = false;
  settings.stateless = options.stateless;
  settings.max_sessions = options.max_sessions;
  return settings;
}

inline mcpd::core::RateLimitOptions generous_limits() {
  mcpd::core::RateLimitOptions limits;
  limits.requests = 100000;
  return limits;
}

// The headers of a well-formed Streamable HTTP POST.
inline Headers post_headers(std::optional<std::string> session = {},
                            std::optional<std::string> version = {}) {
  Headers headers{{"Accept", "application/json, text/event-stream"},
                  {"Content-Type", "application/json"}};
  if (session) headers.emplace_back("Mcp-Session-Id", *session);
  if (version) headers.emplace_back("MCP-Protocol-Version", *version);
  return headers;
}

inline nlohmann::json rpc(const nlohmann::json& id, const std::string& method,
                          nlohmann::json params = nlohmann::json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

inline nlohmann::json notification(const std::string& method,
                                   nlohmann::json params = nlohmann::json::object()) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

class TestServer {
 public:
  explicit TestServer(ServerOptions options = {})
      : m_settings(http_settings(options)),
        m_sessions(session_options(options, *fixture.dispatcher), nullptr),
        m_ctx{m_settings, *fixture.dispatcher, nullptr,    m_readiness, m_sessions,
              m_auth,     m_workers,           m_auxiliary},
        m_contexts(options.io_threads) {
    fixture.dispatcher->set_observer(calls);
    // Sends progress (its stream turns to SSE), then runs until cancelled.
    fixture.catalog->tools.push_back(
        make_tool("slow_progress", shell_mcp(fixture.dir(),
                                             "read call\n"
                                             "echo '{\"progress\":1,\"total\":2}'\n"
                                             "exec sleep 60\n")));
    fixture.catalog->index();
    auto handler = [this](std::shared_ptr<th::Exchange> exchange,
                          std::shared_ptr<th::IncomingRequest> request) {
      th::handle_request(m_ctx, exchange, request);
    };
    auto next_context = [this]() -> boost::asio::io_context& { return m_contexts.next(); };
    m_listener = std::make_shared<th::Listener>(
        next_context, th::bind_acceptor(m_contexts.main(), "127.0.0.1", 0), m_limits, handler,
        nullptr, m_connections);
    m_listener->start();
    m_io = std::thread([this] { m_contexts.run(); });
  }
  ~TestServer() {
    m_listener->stop();
    m_sessions.end_all();  // cancels the calls still running
    m_sessions.cancel_ephemeral();
    m_workers.join();
    m_auxiliary.join();
    m_connections.shut_down_all();
    m_contexts.stop();
    m_io.join();
  }

  Client client() const { return Client(m_listener->info().port); }
  th::SessionRegistry& sessions() { return m_sessions; }
  // Completes once no connection is left: every close the clients made has been processed.
  std::future<void> when_no_connections() {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    m_connections.when_empty([promise] { promise->set_value(); });
    return future;
  }

  // initialize + notifications/initialized on `client`; the new session's id.
  std::string open_session(Client& client, const std::string& version = "2025-11-25") {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                       rpc(0, "initialize",
                                           {{"protocolVersion", version},
                                            {"capabilities", nlohmann::json::object()},
                                            {"clientInfo", {{"name", "test"}, {"version", "1"}}}})
                                           .dump());
    INFO(reply.body());
    REQUIRE(reply.result_int() == 200);
    const std::string id(reply["Mcp-Session-Id"]);
    REQUIRE(!id.empty());
    const auto initialized = client.exchange(bhttp::verb::post, "/mcp", post_headers(id, version),
                                             notification("notifications/initialized").dump());
    REQUIRE(initialized.result_int() == 202);
    return id;
  }

  Fixture fixture;
  std::shared_ptr<CallLog> calls = std::make_shared<CallLog>();

 private:
  th::HttpSettings m_settings;
  std::vector<th::ReadinessCheck> m_readiness;
  th::BoundedPool m_workers{"workers", 2, 16};
  th::BoundedPool m_auxiliary{"auxiliary", 1, 16};
  mcpd::core::RateLimiter m_limiter{generous_limits()};
  mcpd::core::RateLimiter m_failure_limiter{mcpd::core::RateLimiter::auth_failure_defaults()};
  th::SessionRegistry m_sessions;
  th::AuthGate m_auth{false, nullptr, m_limiter, m_failure_limiter, nullptr, m_auxiliary};
  th::ServerContext m_ctx;
  th::IoContextPool m_contexts;
  th::ConnectionLimits m_limits;
  th::ConnectionSet m_connections;
  std::shared_ptr<th::Listener> m_listener;
  std::thread m_io;
};

}  // namespace
}  // namespace http_test
