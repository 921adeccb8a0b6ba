#include "transports/upstream/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>

#include "core/config/error.hpp"

namespace mcpd::transports::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t k_header_limit = 64 * 1024;

enum class Step { resolve, guard, connect, handshake, write, read };

}  // namespace

struct UpstreamClient::TlsContext {
  asio::ssl::context context{asio::ssl::context::tls_client};
};

// One connection with its own io_context: every operation is started and then run to
// completion on the calling thread, next to a deadline timer and a watcher of the call's
// cancellation eventfd, either of which closes the socket to end the wait.
class UpstreamClient::Connection {
 public:
  Connection(const ClientOptions& options, asio::ssl::context* tls) : m_options(options) {
    if (tls)
      m_secure.emplace(m_ioc, *tls);
    else
      m_plain.emplace(m_ioc);
  }

  struct Exchange {
    Attempt attempt;
    bool reusable = false;
    bool stale = false;  // a kept-alive connection failed before any response byte
  };

  Exchange exchange(const Request& request, Clock::time_point deadline,
                    const core::CancelToken* cancel) {
    Exchange result;
    bool timed_out = false;
    bool cancelled = false;
    asio::steady_timer timer(m_ioc);
    timer.expires_at(deadline);
    timer.async_wait([&](error_code ec) {
      if (ec) return;
      timed_out = true;
      abort();
    });
    std::optional<asio::posix::stream_descriptor> watch;
    if (cancel) {
      if (const int fd = ::dup(cancel->fd()); fd >= 0) {
        watch.emplace(m_ioc, fd);
        watch->async_wait(asio::posix::stream_descriptor::wait_read, [&](error_code ec) {
          if (ec) return;
          cancelled = true;
          abort();
        });
      }
    }

    Step step = Step::connect;
    bool got_response_bytes = false;
    http::response_parser<http::string_body> parser;
    const error_code ec = run(request, parser, step, got_response_bytes);

    // Stop the timer and the watcher, and let their handlers finish before they go away.
    timer.cancel();
    if (watch) watch->cancel();
    m_ioc.restart();
    m_ioc.run();

    Attempt& attempt = result.attempt;
    if (cancelled || (cancel && cancel->cancelled())) {
      attempt.outcome = Outcome::cancelled;
      attempt.error = "cancelled";
    } else if (timed_out) {
      attempt.outcome = Outcome::timed_out;
      attempt.error = "no answer within the timeout";
    } else if (ec) {
      classify(ec, step, attempt);
      result.stale =
          m_reused && (step == Step::write || (step == Step::read && !got_response_bytes));
    } else {
      const auto& message = parser.get();
      attempt.outcome = Outcome::response;
      attempt.response.status = message.result_int();
      attempt.response.reason = std::string(message.reason());
      if (auto type = message.find(http::field::content_type); type != message.end())
        attempt.response.content_type = std::string(type->value());
      attempt.response.body = message.body();
      result.reusable = message.keep_alive() && m_buffer.size() == 0;
    }
    if (result.reusable) {
      m_reused = true;
      m_idle_since = Clock::now();
    }
    return result;
  }

  // Whether an idle connection can carry another request: not idle for too long, and the
  // upstream has neither closed it nor sent anything unasked (a TLS close_notify, garbage).
  bool usable() {
    if (Clock::now() - m_idle_since > m_options.max_idle) return false;
    char byte = 0;
    const ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

 private:
  tcp::socket& socket() {
    return m_secure ? beast::get_lowest_layer(*m_secure).socket() : m_plain->socket();
  }
  beast::tcp_stream& tcp_stream() {
    return m_secure ? beast::get_lowest_layer(*m_secure) : *m_plain;
  }

  void abort() {
    error_code ignored;
    m_resolver.cancel();
    socket().close(ignored);
  }

  // Starts an operation and runs the io_context until its handler has run.
  template <class Start>
  error_code await(Start&& start) {
    error_code result = asio::error::interrupted;
    bool done = false;
    start([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    m_ioc.restart();
    while (!done && m_ioc.run_one() > 0) {
    }
    return result;
  }

  error_code run(const Request& request, http::response_parser<http::string_body>& parser,
                 Step& step, bool& got_response_bytes) {
    if (!m_connected) {
      if (auto ec = connect(step)) return ec;
      m_connected = true;
    }
    http::request<http::string_body> message;
    message.version(11);
    message.method_string(request.method);
    message.target(request.target);
    message.set(http::field::host, m_options.base.host_header());
    for (const auto& [name, value] : request.headers) message.set(name, value);
    if (request.body) {
      message.body() = *request.body;
      message.prepare_payload();
    } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
      message.content_length(0);
    }

    step = Step::write;
    auto write = [&](auto& stream) {
      return await([&](auto handler) { http::async_write(stream, message, std::move(handler)); });
    };
    if (auto ec = m_secure ? write(*m_secure) : write(*m_plain)) return ec;

    step = Step::read;
    parser.body_limit(m_options.max_response_bytes);
    parser.header_limit(k_header_limit);
    if (request.method == "HEAD") parser.skip(true);
    // The header first: Beast 1.74 loses the body_limit error when the header and the start
    // of the body arrive in one read, so a declared Content-Length is checked here, and the
    // body's size after the read (chunked bodies are limited by the parser itself).
    auto read_header = [&](auto& stream) {
      return await([&](auto handler) {
        http::async_read_header(stream, m_buffer, parser, std::move(handler));
      });
    };
    error_code ec = m_secure ? read_header(*m_secure) : read_header(*m_plain);
    got_response_bytes = parser.got_some();
    if (ec) return ec;
    const auto declared = parser.content_length();
    if (declared && *declared > m_options.max_response_bytes) return http::error::body_limit;
    auto read = [&](auto& stream) {
      return await(
          [&](auto handler) { http::async_read(stream, m_buffer, parser, std::move(handler)); });
    };
    if (!parser.is_done()) ec = m_secure ? read(*m_secure) : read(*m_plain);
    if (!ec && parser.get().body().size() > m_options.max_response_bytes)
      ec = http::error::body_limit;
    return ec;
  }

  error_code connect(Step& step) {
    step = Step::resolve;
    tcp::resolver::results_type endpoints;
    error_code ec = await([&](auto handler) {
      m_resolver.async_resolve(m_options.base.host, std::to_string(m_options.base.port),
                               [&endpoints, handler = std::move(handler)](
                                   error_code e, tcp::resolver::results_type results) mutable {
                                 endpoints = std::move(results);
                                 handler(e);
                               });
    });
    if (ec) return ec;
    // The SSRF guard, on the addresses themselves (after DNS): only allowed ones are tried.
    step = Step::guard;
    std::vector<tcp::endpoint> allowed;
    m_refusal.clear();
    for (const auto& entry : endpoints) {
      if (auto why = m_options.address_rules.refusal(entry.endpoint().address())) {
        if (m_refusal.empty()) m_refusal = std::move(*why);
      } else {
        allowed.push_back(entry.endpoint());
      }
    }
    if (allowed.empty()) return asio::error::access_denied;
    step = Step::connect;
    ec = await([&](auto handler) { tcp_stream().async_connect(allowed, std::move(handler)); });
    if (ec) return ec;
    error_code ignored;
    socket().set_option(tcp::no_delay(true), ignored);
    if (!m_secure) return {};

    step = Step::handshake;
    SSL* ssl = m_secure->native_handle();
    const std::string& host = m_options.base.host;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    error_code not_ip;
    asio::ip::make_address(host, not_ip);
    if (not_ip) {
      // SNI is for names only (RFC 6066 §3); an address is checked against the IP SANs.
      SSL_set_tlsext_host_name(ssl, host.c_str());
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    }
    return await([&](auto handler) {
      m_secure->async_handshake(asio::ssl::stream_base::client, std::move(handler));
    });
  }

  void classify(const error_code& ec, Step step, Attempt& attempt) {
    attempt.outcome = Outcome::connect_failed;
    switch (step) {
      case Step::resolve:
        attempt.error = "cannot resolve " + m_options.base.host + " (" + ec.message() + ")";
        return;
      case Step::guard:
        attempt.outcome = Outcome::refused;
        attempt.error = m_refusal.empty() ? "no address to connect to" : m_refusal;
        return;
      case Step::connect:
        attempt.error = "cannot connect (" + ec.message() + ")";
        return;
      case Step::handshake: {
        attempt.outcome = Outcome::tls_failed;
        const long verify = SSL_get_verify_result(m_secure->native_handle());
        if (verify != X509_V_OK)
          attempt.error =
              std::string("certificate refused (") + X509_verify_cert_error_string(verify) + ")";
        else
          attempt.error = "TLS handshake failed (" + ec.message() + ")";
        return;
      }
      case Step::write:
        attempt.error = "connection lost while sending (" + ec.message() + ")";
        return;
      case Step::read:
        if (ec == http::error::body_limit) {
          attempt.outcome = Outcome::too_large;
          attempt.error = "response larger than " +
                          std::to_string(m_options.max_response_bytes / 1024) + " KiB";
        } else if (ec == http::error::end_of_stream || ec == asio::error::eof) {
          attempt.error = "connection closed before a complete response";
        } else {
          attempt.error = "bad or broken response (" + ec.message() + ")";
        }
        return;
    }
  }

  const ClientOptions& m_options;
  asio::io_context m_ioc{1};
  tcp::resolver m_resolver{m_ioc};
  std::optional<beast::tcp_stream> m_plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> m_secure;
  beast::flat_buffer m_buffer;
  std::string m_refusal;  // why the address rules refused every resolved address
  bool m_connected = false;
  bool m_reused = false;
  Clock::time_point m_idle_since = Clock::now();
};

UpstreamClient::UpstreamClient(ClientOptions options) : m_options(std::move(options)) {
  if (!m_options.base.tls) return;
  m_tls = std::make_unique<TlsContext>();
  auto& context = m_tls->context;
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
  context.set_verify_mode(asio::ssl::verify_peer);
  error_code ec;
  context.set_default_verify_paths(ec);
  if (ec)
    throw Error("upstreams." + m_options.name + ": cannot load the system CA store (" +
                ec.message() + ")");
  if (!m_options.ca_file.empty()) {
    context.load_verify_file(m_options.ca_file.string(), ec);
    if (ec)
      throw Error("upstreams." + m_options.name + ".ca_file: cannot load " +
                  m_options.ca_file.string() + " (" + ec.message() + ")");
  }
}

UpstreamClient::~UpstreamClient() = default;

std::size_t UpstreamClient::open_connections() const {
  std::lock_guard lock(m_mutex);
  return m_open;
}

Attempt UpstreamClient::send(const Request& request, std::chrono::milliseconds timeout,
                             const core::CancelToken* cancel) {
  const auto deadline = Clock::now() + timeout;
  for (std::size_t replay = 0;; ++replay) {
    Attempt failure;
    auto connection = acquire(deadline, cancel, failure);
    if (!connection) return failure;
    auto result = connection->exchange(request, deadline, cancel);
    release(std::move(connection), result.reusable);
    // Every idle connection may have been closed at once (an upstream restart): try each
    // once, then a fresh one.
    if (result.stale && request.replayable && replay <= m_options.pool_size) continue;
    return std::move(result.attempt);
  }
}

std::unique_ptr<UpstreamClient::Connection> UpstreamClient::acquire(Clock::time_point deadline,
                                                                    const core::CancelToken* cancel,
                                                                    Attempt& failure) {
  std::unique_lock lock(m_mutex);
  for (;;) {
    while (!m_idle.empty()) {
      auto connection = std::move(m_idle.back());
      m_idle.pop_back();
      if (connection->usable()) return connection;
      --m_open;
    }
    if (m_open < m_options.pool_size) {
      ++m_open;
      lock.unlock();
      try {
        return std::make_unique<Connection>(m_options, m_tls ? &m_tls->context : nullptr);
      } catch (...) {
        lock.lock();
        --m_open;
        throw;
      }
    }
    if (cancel && cancel->cancelled()) {
      failure.outcome = Outcome::cancelled;
      failure.error = "cancelled";
      return nullptr;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      failure.outcome = Outcome::timed_out;
      failure.error = "no free connection within the timeout (pool_size " +
                      std::to_string(m_options.pool_size) + ")";
      return nullptr;
    }
    // Cancellation has no condition variable to signal: look again every 50 ms.
    m_freed.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
  }
}

void UpstreamClient::release(std::unique_ptr<Connection> connection, bool reusable) {
  {
    std::lock_guard lock(m_mutex);
    if (reusable) {
      m_idle.push_back(std::move(connection));
    } else {
      --m_open;
    }
  }
  connection.reset();  // closes outside the lock
  m_freed.notify_one();
}

}  // namespace mcpd::transports::upstream
