#include "transports/http/listener.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <utility>

#include "core/config/error.hpp"

namespace mcpd::transports::http {

using boost::system::error_code;

namespace {

// Connections past the cap get this long to send their one request and read the answer.
constexpr std::chrono::milliseconds k_probe_deadline{2000};

bool loopback(const net::ip::address& address) {
  if (address.is_loopback()) return true;
  return address.is_v6() && address.to_v6().is_v4_mapped() &&
         net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).is_loopback();
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

tcp::acceptor bind_acceptor(net::io_context& ioc, const std::string& host, std::uint16_t port) {
  const std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(
        host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      throw Error("cannot listen on " + where + ": cannot resolve " + host + ": " + ec.message());
    endpoint = results.begin()->endpoint();
  }

  tcp::acceptor acceptor(net::make_strand(ioc));
  auto fail = [&](const char* step) {
    throw Error("cannot listen on " + where + ": " + step + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec)) fail("socket");
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec)) fail("SO_REUSEADDR");
  if (acceptor.bind(endpoint, ec)) fail("bind");
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) fail("listen");
  return acceptor;
}

tcp::acceptor adopt_acceptor(net::io_context& ioc, int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw Error("socket activation: fd " + std::to_string(fd) + " is not a socket");
  int type = 0, listening = 0;
  socklen_t size = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size);
  size = sizeof listening;
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size);
  if ((address.ss_family != AF_INET && address.ss_family != AF_INET6) || type != SOCK_STREAM ||
      !listening)
    throw Error("socket activation: fd " + std::to_string(fd) +
                " is not a listening TCP socket (use ListenStream=HOST:PORT)");
  tcp::acceptor acceptor(net::make_strand(ioc));
  error_code ec;
  acceptor.assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
  if (ec)
    throw Error("socket activation: cannot use fd " + std::to_string(fd) + ": " + ec.message());
  return acceptor;
}

ListenerInfo describe(const tcp::acceptor& acceptor) {
  error_code ec;
  const auto endpoint = acceptor.local_endpoint(ec);
  ListenerInfo info;
  info.address = ec ? std::string("unknown") : format_endpoint(endpoint);
  info.port = ec ? 0 : endpoint.port();
  info.loopback = !ec && loopback(endpoint.address());
  return info;
}

// --- ConnectionSet ---

ConnectionSet::ConnectionSet() : m_count(std::make_shared<Count>()) {}

void ConnectionSet::Count::released() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex);
    if (--live == 0) callback = std::exchange(on_empty, nullptr);
  }
  if (callback) callback();
}

std::shared_ptr<Connection> ConnectionSet::adopt(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(m_count->mutex);
    ++m_count->live;
  }
  std::shared_ptr<Connection> shared(connection.release(), [count = m_count](Connection* gone) {
    delete gone;
    count->released();
  });
  std::lock_guard lock(m_mutex);
  // Forget the closed ones now and then, so the list tracks the live connections.
  if (m_connections.size() >= 64 && m_connections.size() > 2 * size())
    std::erase_if(m_connections, [](const auto& weak) { return weak.expired(); });
  m_connections.push_back(shared);
  return shared;
}

void ConnectionSet::when_empty(std::function<void()> callback) {
  {
    std::lock_guard lock(m_count->mutex);
    if (m_count->live > 0 || !callback) {
      m_count->on_empty = std::move(callback);
      return;
    }
  }
  callback();
}

std::size_t ConnectionSet::size() const {
  std::lock_guard lock(m_count->mutex);
  return m_count->live;
}

void ConnectionSet::shut_down_all() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& weak : m_connections)
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  for (const auto& connection : live) connection->shut_down();
}

// --- Listener ---

Response too_many_connections() {
  Response response = error_body(503, "too_many_connections", "too many connections; retry later");
  response.set("Retry-After", "1");
  response.close = true;
  return response;
}

Listener::Listener(ContextPicker contexts, tcp::acceptor acceptor, const ConnectionLimits& limits,
                   RequestHandler handler, StatusObserver observer, ConnectionSet& connections,
                   Admission admission)
    : m_contexts(std::move(contexts)),
      m_acceptor(std::move(acceptor)),
      m_info(std::make_shared<const ListenerInfo>(describe(m_acceptor))),
      m_limits(limits),
      m_probe_limits(limits),
      m_admission(std::move(admission)),
      m_refusal(serialize(too_many_connections(), {}, false)),
      m_handler(std::move(handler)),
      m_observer(std::move(observer)),
      m_connections(connections),
      m_backoff(m_acceptor.get_executor()) {
  m_probe_limits.header_timeout = std::min(limits.header_timeout, k_probe_deadline);
  m_probe_limits.body_timeout = std::min(limits.body_timeout, k_probe_deadline);
  m_probe_limits.write_timeout = std::min(limits.write_timeout, k_probe_deadline);
}

void Listener::start() {
  net::post(m_acceptor.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::stop() {
  net::post(m_acceptor.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->m_backoff.cancel();
    self->m_acceptor.close(ec);
  });
}

void Listener::accept() {
  if (!m_acceptor.is_open()) return;
  m_acceptor.async_accept(
      m_contexts().get_executor(), [self = shared_from_this()](error_code ec, Socket socket) {
        if (ec == net::error::operation_aborted || !self->m_acceptor.is_open()) return;
        if (ec) {
          // Out of file descriptors (or similar): pause instead of spinning on the error.
          spdlog::warn("accept on {} failed: {}", self->m_info->address, ec.message());
          self->m_backoff.expires_after(std::chrono::milliseconds(100));
          self->m_backoff.async_wait([self](error_code wait) {
            if (!wait) self->accept();
          });
          return;
        }
        self->on_accept(std::move(socket));
        self->accept();
      });
}

void Listener::on_accept(Socket socket) {
  const std::size_t open = m_connections.size();
  if (open < m_admission.max_connections) {
    m_connections
        .adopt(std::make_unique<Connection>(std::move(socket), m_info, m_limits, m_handler,
                                            m_observer))
        ->start();
    return;
  }
  if (open < m_admission.max_connections + m_admission.probe_headroom) {
    // One request, for the probes only (the router refuses the rest).
    m_connections
        .adopt(std::make_unique<Connection>(std::move(socket), m_info, m_probe_limits, m_handler,
                                            m_observer, /*over_capacity=*/true))
        ->start();
    return;
  }
  turn_away(socket);
}

void Listener::turn_away(Socket& socket) {
  if (m_admission.on_refused) m_admission.on_refused();
  const int fd = socket.native_handle();
  // Whatever the client already sent is read first: closing with unread data would reset the
  // connection, and the client might lose the answer.
  char discard[4096];
  for (int i = 0; i < 16 && ::recv(fd, discard, sizeof discard, MSG_DONTWAIT) > 0; ++i) {
  }
  // A fresh socket's send buffer takes the few hundred bytes at once; never blocks.
  (void)::send(fd, m_refusal.data(), m_refusal.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace mcpd::transports::http
