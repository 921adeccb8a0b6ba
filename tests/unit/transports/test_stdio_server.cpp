// StdioServer driven over pipes in-process, with a real Dispatcher, HandlerRunner and the
// integration tests' descriptor files (tests/integration/tools).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "core/descriptors/descriptor.hpp"
#include "core/handlers/runner.hpp"
#include "core/protocol/dispatcher.hpp"
#include "core/protocol/rpc.hpp"
#include "transports/stdio/stdio_server.hpp"

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using mcpd::transports::StdioOptions;
using mcpd::transports::StdioServer;

namespace {

const fs::path k_tools = fs::path(MCPD_TEST_DATA) / ".." / "integration" / "tools";
constexpr auto k_timeout = 30s;  // generous: the machine may be busy

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mcpd-stdio-XXXXXX").string();
    m_path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(m_path); }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

std::shared_ptr<const mcpd::core::Catalog> load_test_catalog() {
  auto result = mcpd::core::load_descriptors({k_tools});
  INFO("descriptor diagnostics: " << result.diagnostics.size());
  REQUIRE(result.ok());
  return result.catalog;
}

bool process_gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Waits (bounded) for a file written by a tool; returns its content.
std::string wait_for_file(const fs::path& file) {
  const auto deadline = std::chrono::steady_clock::now() + k_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file);
    std::string text;
    if (in && std::getline(in, text) && !text.empty()) return text;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("timed out waiting for " << file);
  return {};
}

bool wait_until_gone(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + k_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_gone(pid)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// A StdioServer on two pipes, running on its own thread.
class Harness {
 public:
  explicit Harness(StdioOptions options = {}, int input_fd = -1) {
    int in[2];
    int out[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    m_to_server = in[1];
    m_from_server = out[0];
    m_server_out = out[1];
    if (input_fd >= 0) {
      ::close(in[0]);
      m_server_in = input_fd;
    } else {
      m_server_in = in[0];
    }
    options.input_fd = m_server_in;
    options.output_fd = out[1];

    mcpd::core::ExecSettings exec;
    exec.scratch_root = m_scratch.path();
    m_runner = std::make_shared<mcpd::core::HandlerRunner>(exec);
    m_dispatcher = std::make_unique<mcpd::core::Dispatcher>(load_test_catalog(), m_runner,
                                                            mcpd::core::DispatcherOptions{});
    m_server = std::make_unique<StdioServer>(*m_dispatcher, std::move(options));
    m_exit = std::async(std::launch::async, [this] { return m_server->run(); });
  }

  ~Harness() {
    close_input();
    if (m_exit.valid()) {
      m_server->stop();
      m_exit.wait();
    }
    m_server.reset();
    ::close(m_server_in);
    ::close(m_server_out);
    if (m_from_server >= 0) ::close(m_from_server);
  }

  void send_raw(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(m_to_server, bytes.data() + done, bytes.size() - done);
      REQUIRE(n > 0);
      done += static_cast<std::size_t>(n);
    }
  }
  void send(const json& message) { send_raw(message.dump() + "\n"); }
  void request(int id, const std::string& method, json params = json::object()) {
    send(mcpd::core::make_request(id, method, std::move(params)));
  }

  void initialize() {
    request(0, "initialize",
            {{"protocolVersion", "2025-06-18"},
             {"capabilities", json::object()},
             {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    const json reply = next();
    REQUIRE(reply["id"] == 0);
    REQUIRE(reply.contains("result"));
    send(mcpd::core::make_notification("notifications/initialized"));
  }

  // The next line from the server, parsed; fails the test on timeout or a non-JSON line.
  json next() {
    auto line = next_line(k_timeout);
    if (!line) FAIL("no message from the server within the timeout");
    return json::parse(*line);
  }
  // The next response with this id, skipping (and keeping) notifications.
  json response(int id) {
    for (;;) {
      json message = next();
      if (message.contains("id") && message["id"] == id && !message.contains("method"))
        return message;
      m_skipped.push_back(std::move(message));
    }
  }

  std::optional<std::string> next_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto newline = m_buffer.find('\n'); newline != std::string::npos) {
        std::string line = m_buffer.substr(0, newline);
        m_buffer.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      pollfd pfd{m_from_server, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(m_from_server, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      m_buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  void close_input() {
    if (m_to_server >= 0) ::close(m_to_server);
    m_to_server = -1;
  }
  void close_output_reader() {
    ::close(m_from_server);
    m_from_server = -1;
  }
  // Waits for run() to return; fails when it does not within the timeout.
  int exit_code() {
    REQUIRE(m_exit.wait_for(k_timeout) == std::future_status::ready);
    return m_exit.get();
  }
  bool finished() { return m_exit.wait_for(0s) == std::future_status::ready; }

  StdioServer& server() { return *m_server; }
  const std::vector<json>& skipped() const { return m_skipped; }

 private:
  TempDir m_scratch;
  int m_to_server = -1;
  int m_server_in = -1;
  int m_server_out = -1;
  int m_from_server = -1;
  std::string m_buffer;
  std::vector<json> m_skipped;
  std::shared_ptr<mcpd::core::HandlerRunner> m_runner;
  std::unique_ptr<mcpd::core::Dispatcher> m_dispatcher;
  std::unique_ptr<StdioServer> m_server;
  std::future<int> m_exit;
};

json call_params(const std::string& tool, json arguments) {
  return {{"name", tool}, {"arguments", std::move(arguments)}};
}

}  // namespace

TEST_CASE("initialize and tools/list over pipes", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.request(1, "tools/list");
  json reply = h.next();
  REQUIRE(reply["id"] == 1);
  std::vector<std::string> names;
  for (const auto& tool : reply["result"]["tools"]) names.push_back(tool["name"]);
  CHECK(std::find(names.begin(), names.end(), "echo") != names.end());
  CHECK(std::find(names.begin(), names.end(), "slow") != names.end());
  h.close_input();
  CHECK(h.exit_code() == 0);
}

TEST_CASE("bad input gets JSON-RPC errors and serving continues", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.send_raw("this is not json\n");
  CHECK(h.next()["error"]["code"] == -32700);
  h.send_raw("\n   \n\t\r\n");  // blank lines are ignored
  h.send_raw(
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{\"x\":\"\xff\xfe\"}}\n");
  json bad_utf8 = h.next();
  CHECK(bad_utf8["error"]["code"] == -32700);
  CHECK(bad_utf8["id"].is_null());
  h.send_raw("[1, 2\n");
  CHECK(h.next()["error"]["code"] == -32700);
  h.send_raw("{\"jsonrpc\":\"2.0\",\"id\":3}\n");
  CHECK(h.next()["error"]["code"] == -32600);
  h.request(4, "no/such/method");
  json unknown = h.next();
  CHECK(unknown["id"] == 4);
  CHECK(unknown["error"]["code"] == -32601);
  h.request(5, "ping");
  json pong = h.next();
  CHECK(pong["id"] == 5);
  CHECK(pong["result"] == json::object());
}

TEST_CASE("batches are served only after a 2025-03-26 or older initialize", "[transports][stdio]") {
  const json batch =
      json::array({mcpd::core::make_request(1, "ping"), mcpd::core::make_request(2, "ping")});
  SECTION("before initialize, and in a 2025-06-18 session: one -32600") {
    Harness h;
    h.send(batch);
    json refused = h.next();
    CHECK(refused["id"].is_null());
    CHECK(refused["error"]["code"] == -32600);
    h.initialize();  // 2025-06-18
    h.send(batch);
    refused = h.next();
    REQUIRE(refused.is_object());
    CHECK(refused["error"]["message"] ==
          "invalid request: batches are not supported by protocol version 2025-06-18");
  }
  SECTION("in a 2025-03-26 session: an array of replies") {
    Harness h;
    h.request(0, "initialize",
              {{"protocolVersion", "2025-03-26"},
               {"capabilities", json::object()},
               {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    REQUIRE(h.next()["result"]["protocolVersion"] == "2025-03-26");
    h.send(batch);
    const json replies = h.next();
    REQUIRE(replies.is_array());
    CHECK(replies.size() == 2);
  }
}

TEST_CASE("oversized lines are refused and skipped to the newline", "[transports][stdio]") {
  StdioOptions options;
  options.max_line_bytes = 1000;
  Harness h(options);
  h.initialize();
  // Written in pieces, so the limit is crossed in the middle of a read.
  const std::string big =
      "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\",\"params\":{\"pad\":\"" +
      std::string(3000, 'x') + "\"}}";
  h.send_raw(big.substr(0, 700));
  h.send_raw(big.substr(700, 1500));
  h.send_raw(big.substr(2200) + "\n");
  json refused = h.next();
  CHECK(refused["error"]["code"] == -32600);
  CHECK(refused["id"].is_null());
  h.request(10, "ping");
  CHECK(h.next()["id"] == 10);  // nothing of the long line leaked into the next message
}

TEST_CASE("a message split across many writes is reassembled", "[transports][stdio]") {
  Harness h;
  h.initialize();
  const std::string ping = R"({"jsonrpc":"2.0","id":"split","method":"ping"})";
  for (char c : ping) h.send_raw(std::string(1, c));
  h.send_raw("\r\n");  // CRLF is tolerated
  CHECK(h.next()["id"] == "split");
}

TEST_CASE("a last line without a newline is served at EOF", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.send_raw(R"({"jsonrpc":"2.0","id":7,"method":"ping"})");
  h.close_input();
  CHECK(h.next()["id"] == 7);
  CHECK(h.exit_code() == 0);
}

TEST_CASE("ping is answered while a slow tool runs, cancel ends it", "[transports][stdio]") {
  TempDir dir;
  const fs::path pid_file = dir.path() / "slow.pid";
  Harness h;
  h.initialize();
  h.request(1, "tools/call",
            call_params("slow", {{"pid_file", pid_file.string()}, {"seconds", 60}}));
  const pid_t pid = std::stoi(wait_for_file(pid_file));
  h.request(2, "ping");
  json pong = h.next();  // the tool sleeps for a minute: the first reply is the ping's
  CHECK(pong["id"] == 2);
  CHECK(pong["result"] == json::object());
  h.send(mcpd::core::make_notification("notifications/cancelled",
                                       {{"requestId", 1}, {"reason", "test cancels"}}));
  CHECK(wait_until_gone(pid));
  h.request(3, "ping");
  CHECK(h.response(3)["result"] == json::object());
}

TEST_CASE("EOF: requests already received are still answered", "[transports][stdio]") {
  TempDir dir;
  Harness h;
  h.initialize();
  h.request(1, "tools/call",
            call_params("slow", {{"pid_file", (dir.path() / "p").string()}, {"seconds", 0.5}}));
  h.request(2, "tools/call", call_params("echo", {{"message", "hi"}}));
  h.close_input();
  json slow = h.response(1);
  CHECK(slow["result"].value("isError", false) == false);
  CHECK(h.exit_code() == 0);
  // The echo reply came before or after the slow one, but it came.
  bool echo_seen = false;
  for (const auto& m : h.skipped()) echo_seen = echo_seen || m.value("id", json()) == 2;
  if (!echo_seen) echo_seen = h.next()["id"] == 2;
  CHECK(echo_seen);
}

TEST_CASE("EOF: calls still running after the grace period are cancelled", "[transports][stdio]") {
  TempDir dir;
  const fs::path pid_file = dir.path() / "slow.pid";
  StdioOptions options;
  options.shutdown_grace = 300ms;
  Harness h(options);
  h.initialize();
  h.request(1, "tools/call",
            call_params("slow", {{"pid_file", pid_file.string()}, {"seconds", 120}}));
  const pid_t pid = std::stoi(wait_for_file(pid_file));
  h.close_input();
  CHECK(h.exit_code() == 0);  // well before the two minutes
  CHECK(wait_until_gone(pid));
}

TEST_CASE("stop() ends run() while the input stays open", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.server().stop();
  CHECK(h.exit_code() == 0);
}

TEST_CASE("a closed output ends the server without waiting for EOF", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.close_output_reader();
  h.request(1, "ping");  // its reply hits EPIPE
  CHECK(h.exit_code() == 0);
}

TEST_CASE("progress notifications and the result arrive as whole lines", "[transports][stdio]") {
  Harness h;
  h.initialize();
  h.send(mcpd::core::make_request(1, "tools/call",
                                  {{"name", "exec_progress"},
                                   {"arguments", {{"steps", 4}}},
                                   {"_meta", {{"progressToken", "p1"}}}}));
  json result = h.response(1);
  CHECK(result["result"]["structuredContent"]["steps"] == 4);
  int progress = 0;
  for (const auto& m : h.skipped()) {
    if (m.value("method", "") != "notifications/progress") continue;
    CHECK(m["params"]["progressToken"] == "p1");
    ++progress;
  }
  CHECK(progress == 4);
}

TEST_CASE("several tool calls run concurrently", "[transports][stdio]") {
  TempDir dir;
  Harness h;
  h.initialize();
  // Both sleep a minute; both pid files appear only if both run at the same time.
  for (int id : {1, 2})
    h.request(id, "tools/call",
              call_params("slow", {{"pid_file", (dir.path() / std::to_string(id)).string()},
                                   {"seconds", 60}}));
  const pid_t a = std::stoi(wait_for_file(dir.path() / "1"));
  const pid_t b = std::stoi(wait_for_file(dir.path() / "2"));
  CHECK(a != b);
  for (int id : {1, 2})
    h.send(mcpd::core::make_notification("notifications/cancelled", {{"requestId", id}}));
  CHECK(wait_until_gone(a));
  CHECK(wait_until_gone(b));
}

TEST_CASE("a regular file works as input", "[transports][stdio]") {
  TempDir dir;
  const fs::path requests = dir.path() / "requests.jsonl";
  {
    std::ofstream out(requests);
    out << R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"file","version":"1"}}})"
        << "\n"
        << R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
        << "\n"
        << R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"from a file"}}})"
        << "\n";
  }
  const int fd = ::open(requests.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  Harness h({}, fd);
  CHECK(h.next()["id"] == 0);
  json echo = h.next();
  CHECK(echo["id"] == 1);
  CHECK(echo["result"]["structuredContent"]["echo"] == "from a file");
  CHECK(h.exit_code() == 0);
}

TEST_CASE("the identity refresh hook replaces the session identity", "[transports][stdio]") {
  std::mutex mutex;
  std::condition_variable called;
  int calls = 0;
  StdioOptions options;
  options.identity_refresh_interval = 20ms;
  options.identity_refresh = [&]() -> std::optional<mcpd::core::Identity> {
    mcpd::core::Identity identity;
    identity.user = "ann@example.com";
    identity.allowed_tools = {"echo"};
    {
      std::lock_guard lock(mutex);
      ++calls;
    }
    called.notify_all();
    return identity;
  };
  Harness h(options);
  h.initialize();
  {
    std::unique_lock lock(mutex);
    // The second call starts only after the first identity was set (one timer thread).
    REQUIRE(called.wait_for(lock, k_timeout, [&] { return calls >= 2; }));
  }
  h.request(1, "tools/list");
  json reply = h.next();
  REQUIRE(reply["result"]["tools"].size() == 1);
  CHECK(reply["result"]["tools"][0]["name"] == "echo");
  CHECK(h.server().session().identity()->user == "ann@example.com");
}

namespace {

json modern_meta() {
  return {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
          {"io.modelcontextprotocol/clientCapabilities", json::object()}};
}

}  // namespace

TEST_CASE("subscriptions/listen over stdio: acknowledged, cancelled, closed at EOF",
          "[transports][stdio][subscriptions]") {
  Harness harness;
  const std::string uri = "test://inline";
  auto listen = [&](const json& id) {
    harness.send(mcpd::core::make_request(
        id, "subscriptions/listen",
        {{"_meta", modern_meta()}, {"notifications", {{"resourceSubscriptions", {uri}}}}}));
    const json ack = harness.next();
    REQUIRE(ack["method"] == "notifications/subscriptions/acknowledged");
    CHECK(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == id);
    CHECK(ack["params"]["notifications"]["resourceSubscriptions"] == json::array({uri}));
  };
  listen("listen:1");
  listen("listen:2");
  // The listens answer nothing while open; other requests are served meanwhile.
  harness.send(mcpd::core::make_request(5, "tools/list", {{"_meta", modern_meta()}}));
  const json list = harness.next();
  CHECK(list["id"] == 5);
  CHECK(list["result"]["resultType"] == "complete");

  // A cancelled listen ends silently; the other is closed with its final result at EOF.
  harness.send(mcpd::core::make_notification(
      "notifications/cancelled", {{"requestId", "listen:1"}, {"_meta", modern_meta()}}));
  harness.close_input();
  const json last = harness.next();
  CHECK(last["id"] == "listen:2");
  CHECK(last["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen:2");
  CHECK(harness.exit_code() == 0);
  CHECK_FALSE(harness.next_line(200ms));
}
