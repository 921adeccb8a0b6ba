#pragma once
// A test client for the HTTP transport: one loopback connection driven by asynchronous Beast
// operations on the test thread, each bounded by a deadline (a broken server fails the test
// instead of hanging it). Raw bytes for what a well-behaved client would not send; whole
// responses; and streamed (SSE) responses read as far as the test needs.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace http_test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Reply = bhttp::response<bhttp::string_body>;
using Headers = std::vector<std::pair<std::string, std::string>>;

// How long any single wait may take: generous for a loaded machine, never reached when the
// server behaves (every wait ends on an event: bytes, a response, a close).
inline constexpr std::chrono::seconds k_wait{30};

// The JSON of every "data:" line of an SSE body (empty data lines, like priming events, skipped).
inline std::vector<nlohmann::json> sse_messages(const std::string& body) {
  std::vector<nlohmann::json> messages;
  std::size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    at += 6;
    const auto end = body.find('\n', at);
    const std::string data = body.substr(at, end - at);
    if (!data.empty()) messages.push_back(nlohmann::json::parse(data));
    at = end;
  }
  return messages;
}

class Client {
 public:
  explicit Client(std::uint16_t port) {
    m_stream.expires_after(k_wait);
    m_stream.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
    m_stream.expires_never();
  }

  // --- raw bytes ---

  // False when the server has closed or reset the connection.
  bool write(const std::string& bytes) {
    return run([&](auto done) { net::async_write(m_stream, net::buffer(bytes), done); }) ==
           boost::system::error_code();
  }
  // Everything the server sends until it closes the connection; nullopt when it did not
  // close within k_wait.
  std::optional<std::string> read_until_closed() {
    std::string received(m_buffer.size(), '\0');
    net::buffer_copy(net::buffer(received), m_buffer.data());
    m_buffer.consume(m_buffer.size());
    for (;;) {
      char chunk[4096];
      std::size_t n = 0;
      const auto ec = run([&](auto done) {
        m_stream.async_read_some(net::buffer(chunk), [&n, done](auto e, std::size_t got) {
          n = got;
          done(e, got);
        });
      });
      received.append(chunk, n);
      if (ec == beast::error::timeout) return std::nullopt;
      if (ec) return received;  // eof or reset: closed
    }
  }
  // True when the server closes the connection within k_wait without sending anything more.
  bool closed_silently() {
    const auto rest = read_until_closed();
    return rest && rest->empty();
  }
  void close() {
    boost::system::error_code ec;
    m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    m_stream.socket().close(ec);
  }

  // --- HTTP ---

  static bhttp::request<bhttp::string_body> request(bhttp::verb verb, const std::string& target,
                                                    const Headers& headers = {},
                                                    std::string body = {}) {
    bhttp::request<bhttp::string_body> request{verb, target, 11};
    request.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || verb == bhttp::verb::post) {
      request.body() = std::move(body);
      request.prepare_payload();
    }
    return request;
  }

  void send(const bhttp::request<bhttp::string_body>& request) {
    const auto ec = run([&](auto done) { bhttp::async_write(m_stream, request, done); });
    REQUIRE_FALSE(ec);
  }
  // The next whole response (a stream is read to its end).
  Reply read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    const auto ec = run([&](auto done) { bhttp::async_read(m_stream, m_buffer, parser, done); });
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return parser.release();
  }
  Reply exchange(bhttp::verb verb, const std::string& target, const Headers& headers = {},
                 std::string body = {}) {
    send(request(verb, target, headers, std::move(body)));
    return read();
  }

  // A response whose body keeps coming: the head first, then the body as far as needed.
  const bhttp::response<bhttp::string_body>& read_head() {
    m_parser.emplace();
    m_parser->body_limit(boost::none);
    const auto ec =
        run([&](auto done) { bhttp::async_read_header(m_stream, m_buffer, *m_parser, done); });
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    return m_parser->get();
  }
  // Reads the stream's body until `enough` holds for it or the stream ends; false when neither
  // happened within k_wait (or the connection failed).
  bool read_body_until(const std::function<bool(const std::string&)>& enough) {
    REQUIRE(m_parser);
    while (!enough(m_parser->get().body())) {
      if (m_parser->is_done()) return false;
      const auto ec =
          run([&](auto done) { bhttp::async_read_some(m_stream, m_buffer, *m_parser, done); });
      if (ec == bhttp::error::need_buffer) continue;
      if (ec) return enough(m_parser->get().body());
    }
    return true;
  }
  // Reads the stream to its end; false when it did not end within k_wait.
  bool read_body_to_end() {
    return read_body_until([this](const std::string&) { return m_parser->is_done(); });
  }
  const std::string& body() const { return m_parser->get().body(); }
  bool stream_done() const { return m_parser && m_parser->is_done(); }

 private:
  // Runs one asynchronous operation to completion within k_wait.
  template <class Start>
  boost::system::error_code run(Start&& start) {
    boost::system::error_code result = net::error::would_block;
    m_stream.expires_after(k_wait);
    start([&result](boost::system::error_code ec, std::size_t) { result = ec; });
    m_ioc.restart();
    m_ioc.run();
    m_stream.expires_never();
    return result;
  }

  net::io_context m_ioc;
  beast::tcp_stream m_stream{m_ioc};
  beast::flat_buffer m_buffer;
  std::optional<bhttp::response_parser<bhttp::string_body>> m_parser;
};

}  // namespace http_test
