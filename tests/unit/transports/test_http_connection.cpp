// One HTTP connection through its interface: a real Listener on 127.0.0.1:0, its Connections
// and Exchanges, a handler written by each test, and a client that sends raw bytes where a
// well-behaved client would not. Limits, deadlines, keep-alive, pipelining, a client that
// leaves mid-body or mid-exchange, and streams. Every wait ends on an event (a response, a
// close, a promise) within a bound; deadlines under test are made short, never slept through.

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "http_test_client.hpp"
#include "transports/http/listener.hpp"

using namespace mcpd::transports::http;
using namespace std::chrono_literals;
using http_test::Client;
using http_test::k_wait;
namespace bhttp = boost::beast::http;

namespace {

using Handler = std::function<void(std::shared_ptr<Exchange>, std::shared_ptr<IncomingRequest>)>;

// Answers 200 with "<METHOD> <target> <body size>" as text.
void echo(const std::shared_ptr<Exchange>& exchange,
          const std::shared_ptr<IncomingRequest>& request) {
  Response response;
  response.content_type = "text/plain";
  response.body = std::string(request->message.method_string()) + " " +
                  std::string(request->message.target()) + " " +
                  std::to_string(request->message.body().size());
  exchange->respond(std::move(response));
}

class Server {
 public:
  explicit Server(ConnectionLimits limits = {}, Handler handler = echo) : m_limits(limits) {
    m_handler = std::move(handler);
    auto counted = [this](std::shared_ptr<Exchange> exchange,
                          std::shared_ptr<IncomingRequest> request) {
      ++requests;
      m_handler(std::move(exchange), std::move(request));
    };
    auto observer = [this](unsigned status) {
      std::lock_guard lock(m_mutex);
      m_statuses.push_back(status);
    };
    auto context = [this]() -> boost::asio::io_context& { return m_ioc; };
    m_listener = std::make_shared<Listener>(context, bind_acceptor(m_ioc, "127.0.0.1", 0), m_limits,
                                            counted, observer, m_connections);
    m_listener->start();
    m_io = std::thread([this] { m_ioc.run(); });
  }
  ~Server() {
    m_listener->stop();
    m_connections.shut_down_all();
    m_ioc.stop();
    m_io.join();
  }

  std::uint16_t port() const { return m_listener->info().port; }
  Client client() const { return Client(port()); }

  // Completes when no connection is left (each one closed and destroyed).
  std::future<void> when_empty() {
    auto promise = std::make_shared<std::promise<void>>();
    auto future = promise->get_future();
    m_connections.when_empty([promise] { promise->set_value(); });
    return future;
  }
  std::size_t connections() const { return m_connections.size(); }
  void shut_down() { m_connections.shut_down_all(); }

  // The status of every response (what metrics count), in order.
  std::vector<unsigned> statuses() const {
    std::lock_guard lock(m_mutex);
    return m_statuses;
  }

  std::atomic<int> requests{0};

 private:
  mutable std::mutex m_mutex;
  std::vector<unsigned> m_statuses;
  boost::asio::io_context m_ioc;
  ConnectionLimits m_limits;
  Handler m_handler;
  ConnectionSet m_connections;
  std::shared_ptr<Listener> m_listener;
  std::thread m_io;
};

bool ready(std::future<void>& future) {
  return future.wait_for(k_wait) == std::future_status::ready;
}

std::string post_head(std::size_t content_length, const std::string& extra = {}) {
  return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

}  // namespace

TEST_CASE("connection: several requests on one keep-alive connection", "[transports][http]") {
  Server server;
  auto client = server.client();
  for (int i = 0; i < 3; ++i) {
    const auto reply =
        client.exchange(bhttp::verb::post, "/n" + std::to_string(i), {}, std::string(i * 10, 'x'));
    CHECK(reply.result_int() == 200);
    CHECK(reply.body() == "POST /n" + std::to_string(i) + " " + std::to_string(i * 10));
    CHECK(reply.keep_alive());
  }
  CHECK(server.requests == 3);
  CHECK(server.connections() == 1);
}

TEST_CASE("connection: pipelined requests are answered in order", "[transports][http]") {
  Server server;
  auto client = server.client();
  REQUIRE(client.write("GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + post_head(5) + "hello" +
                       "GET /third HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  CHECK(client.read().body() == "GET /first 0");
  CHECK(client.read().body() == "POST /mcp 5");
  CHECK(client.read().body() == "GET /third 0");
  CHECK(server.requests == 3);
}

TEST_CASE("connection: Connection: close and HTTP/1.0 end the connection after the answer",
          "[transports][http]") {
  Server server;
  SECTION("HTTP/1.1 with Connection: close") {
    auto client = server.client();
    REQUIRE(client.write("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->find("GET /a 0") != std::string::npos);
    CHECK(received->find("Connection: close") != std::string::npos);
  }
  SECTION("HTTP/1.0 without keep-alive") {
    auto client = server.client();
    REQUIRE(client.write("GET /b HTTP/1.0\r\n\r\n"));
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->rfind("HTTP/1.1 200", 0) == 0);
    CHECK(received->find("GET /b 0") != std::string::npos);
  }
  SECTION("HTTP/1.0 asking for keep-alive keeps it") {
    auto client = server.client();
    REQUIRE(client.write("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto first = client.read();
    CHECK(first.body() == "GET /c 0");
    CHECK(first[bhttp::field::connection] == "keep-alive");
    REQUIRE(client.write("GET /d HTTP/1.0\r\n\r\n"));
    CHECK(client.read().body() == "GET /d 0");
  }
}

TEST_CASE("connection: a header larger than the limit gets 431 and the connection closes",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.header_limit = 1024;
  Server server(limits);
  auto client = server.client();
  REQUIRE(client.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(2048, 'a') +
                       "\r\n\r\n"));
  const auto received = client.read_until_closed();
  REQUIRE(received);
  CHECK(received->rfind("HTTP/1.1 431", 0) == 0);
  CHECK(server.requests == 0);

  // Just under the limit passes.
  auto fine = server.client();
  const auto reply = fine.exchange(bhttp::verb::get, "/", {{"X-Big", std::string(800, 'a')}});
  CHECK(reply.result_int() == 200);
}

TEST_CASE("connection: a body larger than the limit gets 413 without being read",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.body_limit = 1000;
  Server server(limits);

  SECTION("announced by Content-Length") {
    auto client = server.client();
    REQUIRE(client.write(post_head(5000)));  // the body never comes: refused on the header
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->rfind("HTTP/1.1 413", 0) == 0);
    CHECK(received->find("payload_too_large") != std::string::npos);
  }
  SECTION("chunked, found while reading") {
    auto client = server.client();
    const std::string chunk(600, 'x');
    REQUIRE(client.write(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" +
        chunk + "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->rfind("HTTP/1.1 413", 0) == 0);
  }
  SECTION("at the limit passes") {
    auto client = server.client();
    const auto reply = client.exchange(bhttp::verb::post, "/mcp", {}, std::string(1000, 'x'));
    CHECK(reply.body() == "POST /mcp 1000");
  }
  CHECK(server.requests <= 1);
}

TEST_CASE("connection: a header that does not arrive in time closes the connection",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.header_timeout = 200ms;
  Server server(limits);

  SECTION("nothing sent") {
    auto client = server.client();
    CHECK(client.closed_silently());
  }
  SECTION("half a header") {
    auto client = server.client();
    REQUIRE(client.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    CHECK(client.closed_silently());
  }
  CHECK(server.requests == 0);
}

TEST_CASE("connection: a body that does not arrive in time closes the connection",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.body_timeout = 200ms;
  Server server(limits);
  auto client = server.client();
  REQUIRE(client.write(post_head(100) + "{\"partial\":"));
  CHECK(client.closed_silently());
  CHECK(server.requests == 0);
}

TEST_CASE("connection: an idle keep-alive connection is closed after the idle timeout",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.idle_timeout = 200ms;
  Server server(limits);
  auto client = server.client();
  CHECK(client.exchange(bhttp::verb::get, "/").result_int() == 200);
  CHECK(client.closed_silently());
}

// A deadline moves on one pending timer wait (Connection::Deadline): the wait fires at the
// shortest timeout's horizon and waits on while the deadline has moved later. Neither a stale
// wait nor the horizon may close a connection early, and the latest deadline still holds.
TEST_CASE("connection: deadlines move with every request, none fires early, the last one holds",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.header_timeout = 150ms;  // the horizon
  limits.idle_timeout = 150ms;
  Server server(limits);
  auto client = server.client();
  // 12 requests 50 ms apart: each gap is within the idle timeout, but the whole run is four
  // times longer than the first request's deadlines.
  for (int i = 0; i < 12; ++i) {
    CHECK(client.exchange(bhttp::verb::get, "/").result_int() == 200);
    std::this_thread::sleep_for(50ms);
  }
  CHECK(server.requests == 12);
  CHECK(client.closed_silently());
}

TEST_CASE("connection: a deadline beyond the horizon is waited for in several steps",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.header_timeout = 100ms;  // the horizon: the idle wait fires at 100 ms and waits on
  limits.idle_timeout = 700ms;
  Server server(limits);
  auto client = server.client();
  CHECK(client.exchange(bhttp::verb::get, "/").result_int() == 200);
  std::this_thread::sleep_for(350ms);  // past three horizons, within the idle timeout
  CHECK(client.exchange(bhttp::verb::get, "/").result_int() == 200);
  const auto idle_from = std::chrono::steady_clock::now();
  CHECK(client.closed_silently());
  CHECK(std::chrono::steady_clock::now() - idle_from >= 650ms);  // not closed before its time
}

// After a graceful close the connection lingers 2 s for the client's own close, a deadline
// earlier than the pending wait (the 10 s header timeout's horizon): the wait is re-armed.
TEST_CASE("connection: the linger after a graceful close ends on time, before the horizon",
          "[transports][http]") {
  Server server;  // default limits: header timeout 10 s
  auto client = server.client();
  CHECK(client.exchange(bhttp::verb::get, "/").result_int() == 200);  // arms the idle wait
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(client.write("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  const auto received = client.read_until_closed();  // the server's FIN; the client stays
  REQUIRE(received);
  CHECK(received->find("GET /a 0") != std::string::npos);
  auto empty = server.when_empty();
  REQUIRE(ready(empty));
  const auto lingered = std::chrono::steady_clock::now() - start;
  CHECK(lingered >= 1900ms);  // the linger is waited for
  CHECK(lingered < 8s);       // and not stretched to the 10 s horizon
}

TEST_CASE("connection: a client that closes mid-request is dropped, not answered",
          "[transports][http]") {
  Server server;
  auto client = server.client();
  SECTION("mid-body") {
    REQUIRE(client.write(post_head(100) + "{\"jsonrpc\":"));
  }
  SECTION("mid-header") {
    REQUIRE(client.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  auto empty = server.when_empty();
  client.close();
  CHECK(ready(empty));
  CHECK(server.requests == 0);
  // Nobody to answer: no 400 is sent, or counted as an error.
  CHECK(server.statuses().empty());
}

TEST_CASE("connection: malformed requests get 400, unknown Expect 417", "[transports][http]") {
  Server server;
  SECTION("garbage") {
    auto client = server.client();
    REQUIRE(client.write("NOT HTTP AT ALL\r\n\r\n"));
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->rfind("HTTP/1.1 400", 0) == 0);
  }
  SECTION("Expect other than 100-continue") {
    auto client = server.client();
    REQUIRE(client.write(post_head(2, "Expect: something\r\n") + "{}"));
    const auto received = client.read_until_closed();
    REQUIRE(received);
    CHECK(received->rfind("HTTP/1.1 417", 0) == 0);
  }
  CHECK(server.requests == 0);
}

TEST_CASE("connection: Expect: 100-continue is answered before the body is sent",
          "[transports][http]") {
  Server server;
  auto client = server.client();
  REQUIRE(client.write(post_head(4, "Expect: 100-continue\r\n")));
  auto interim = client.read();
  CHECK(interim.result_int() == 100);
  REQUIRE(client.write("abcd"));
  CHECK(client.read().body() == "POST /mcp 4");
}

TEST_CASE("connection: a client that leaves during an exchange is noticed at once",
          "[transports][http]") {
  std::promise<std::shared_ptr<Exchange>> held;
  std::promise<void> closed;
  Server server({}, [&](std::shared_ptr<Exchange> exchange, std::shared_ptr<IncomingRequest>) {
    exchange->on_closed([&closed] { closed.set_value(); });
    held.set_value(exchange);  // never answered
  });
  auto client = server.client();
  client.send(Client::request(bhttp::verb::post, "/mcp", {}, "{}"));
  auto exchange_future = held.get_future();
  REQUIRE(exchange_future.wait_for(k_wait) == std::future_status::ready);
  const auto exchange = exchange_future.get();
  CHECK_FALSE(exchange->closed());

  client.close();
  auto closed_future = closed.get_future();
  REQUIRE(closed_future.wait_for(k_wait) == std::future_status::ready);
  CHECK(exchange->closed());
  // Answering a gone client is harmless.
  exchange->respond(Response{});
  CHECK_FALSE(exchange->begin_stream(Response{}));
}

TEST_CASE("connection: on_closed registered after the close still runs", "[transports][http]") {
  std::promise<std::shared_ptr<Exchange>> held;
  std::promise<void> closed;
  Server server({}, [&](std::shared_ptr<Exchange> exchange, std::shared_ptr<IncomingRequest>) {
    exchange->on_closed([&closed] { closed.set_value(); });
    held.set_value(exchange);
  });
  auto client = server.client();
  client.send(Client::request(bhttp::verb::get, "/"));
  auto exchange_future = held.get_future();
  REQUIRE(exchange_future.wait_for(k_wait) == std::future_status::ready);
  const auto exchange = exchange_future.get();
  client.close();
  auto first = closed.get_future();
  REQUIRE(first.wait_for(k_wait) == std::future_status::ready);

  std::promise<void> late;
  exchange->on_closed([&late] { late.set_value(); });
  auto late_future = late.get_future();
  CHECK(late_future.wait_for(k_wait) == std::future_status::ready);
}

TEST_CASE("connection: a stream is chunked, carries heartbeats, then the connection is reused",
          "[transports][http]") {
  ConnectionLimits limits;
  limits.heartbeat = 50ms;
  std::mutex mutex;
  std::shared_ptr<Exchange> stream;
  std::promise<void> opened;
  Server server(limits,
                [&](std::shared_ptr<Exchange> exchange, std::shared_ptr<IncomingRequest> request) {
                  if (request->message.target() != "/stream") return echo(exchange, request);
                  Response head;
                  head.content_type = "text/event-stream";
                  if (!exchange->begin_stream(std::move(head))) return;
                  exchange->send(sse_event("1", "{\"n\":1}"));
                  {
                    std::lock_guard lock(mutex);
                    stream = exchange;
                  }
                  opened.set_value();
                });
  auto client = server.client();
  client.send(Client::request(bhttp::verb::get, "/stream"));
  const auto& head = client.read_head();
  CHECK(head.result_int() == 200);
  CHECK(head[bhttp::field::content_type] == "text/event-stream");
  CHECK(head.chunked());
  CHECK(client.read_body_until(
      [](const std::string& body) { return body.find("data: {\"n\":1}") != std::string::npos; }));
  // Nothing else is sent for a while: the heartbeat keeps the stream alive.
  CHECK(client.read_body_until(
      [](const std::string& body) { return body.find(": keepalive") != std::string::npos; }));

  REQUIRE(opened.get_future().wait_for(k_wait) == std::future_status::ready);
  {
    std::lock_guard lock(mutex);
    stream->send(sse_event("2", "{\"n\":2}"));
    stream->end_stream();
  }
  CHECK(client.read_body_to_end());
  CHECK(client.body().find("data: {\"n\":2}") != std::string::npos);
  // The same connection serves the next request.
  CHECK(client.exchange(bhttp::verb::get, "/after").body() == "GET /after 0");
  // The exchange goes before the server's io_context does (its strand lives there).
  std::lock_guard lock(mutex);
  stream.reset();
}

TEST_CASE("connection: shutting down closes idle connections and lets an exchange finish",
          "[transports][http]") {
  std::promise<std::shared_ptr<Exchange>> held;
  Server server({},
                [&](std::shared_ptr<Exchange> exchange, std::shared_ptr<IncomingRequest> request) {
                  if (request->message.target() == "/slow") return held.set_value(exchange);
                  echo(exchange, request);
                });
  auto idle = server.client();
  CHECK(idle.exchange(bhttp::verb::get, "/").result_int() == 200);
  auto busy = server.client();
  busy.send(Client::request(bhttp::verb::get, "/slow"));
  auto exchange_future = held.get_future();
  REQUIRE(exchange_future.wait_for(k_wait) == std::future_status::ready);

  server.shut_down();
  CHECK(idle.closed_silently());
  // The exchange in progress still gets its answer, then the connection closes.
  Response late;
  late.content_type = "text/plain";
  late.body = "late";
  exchange_future.get()->respond(std::move(late));
  const auto received = busy.read_until_closed();
  REQUIRE(received);
  CHECK(received->find("Connection: close") != std::string::npos);
  CHECK(received->find("late") != std::string::npos);
}

TEST_CASE("connection: a client that does not read its stream is dropped", "[transports][http]") {
  ConnectionLimits limits;
  SECTION("when the queue passes its bound") {
    limits.max_queued_bytes = 64 * 1024;
    limits.write_timeout = 600s;  // only the queue bound can end it
  }
  SECTION("when a write makes no progress in time") {
    limits.max_queued_bytes = std::size_t(1) << 40;
    limits.write_timeout = 200ms;
  }
  std::promise<void> closed;
  std::promise<std::shared_ptr<Exchange>> opened;
  Server server(limits, [&](std::shared_ptr<Exchange> exchange, std::shared_ptr<IncomingRequest>) {
    Response head;
    head.content_type = "text/event-stream";
    exchange->on_closed([&closed] { closed.set_value(); });
    if (exchange->begin_stream(std::move(head))) opened.set_value(exchange);
  });
  auto client = server.client();
  client.send(Client::request(bhttp::verb::get, "/stream"));
  auto opened_future = opened.get_future();
  REQUIRE(opened_future.wait_for(k_wait) == std::future_status::ready);
  const auto exchange = opened_future.get();

  // Far more than the socket buffers hold; the client reads none of it.
  const std::string event = sse_event({}, std::string(64 * 1024, 'x'));
  auto closed_future = closed.get_future();
  for (int i = 0; i < 2048 && !exchange->closed(); ++i) {
    exchange->send(event);
    if (i % 64 == 63 && closed_future.wait_for(0s) == std::future_status::ready) break;
  }
  CHECK(closed_future.wait_for(k_wait) == std::future_status::ready);
  CHECK(exchange->closed());
}

TEST_CASE("connection: headers past the request's arena are all read, request after request",
          "[transports][http]") {
  // A request's fields start in a 1 KiB arena inside it; 40 headers of ~150 bytes spill far
  // past it, and the next request on the connection starts a fresh arena.
  Server server({}, [](const std::shared_ptr<Exchange>& exchange,
                       const std::shared_ptr<IncomingRequest>& request) {
    Response response;
    response.content_type = "text/plain";
    for (int i = 0; i < 40; ++i) {
      const auto value = request->header("X-Filler-" + std::to_string(i));
      response.body += value ? std::string(*value).substr(0, 3) : std::string("?");
    }
    exchange->respond(std::move(response));
  });
  auto client = server.client();
  std::string expected;
  http_test::Headers headers;
  for (int i = 0; i < 40; ++i) {
    const std::string value = std::to_string(100 + i) + std::string(150, 'v');
    headers.emplace_back("X-Filler-" + std::to_string(i), value);
    expected += value.substr(0, 3);
  }
  for (int round = 0; round < 3; ++round) {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp", headers, "{}");
    CHECK(reply.result_int() == 200);
    CHECK(reply.body() == expected);
  }
  const auto small = client.exchange(bhttp::verb::get, "/small");
  CHECK(small.result_int() == 200);
  CHECK(small.body() == std::string(40, '?'));
}
