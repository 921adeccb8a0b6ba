#pragma once
// Listening sockets: bound from HOST:PORT or adopted from systemd socket activation, and the
// accept loop that turns each connection into a Connection on the io_context the ContextPicker
// names (IoContextPool::next: round-robin over the I/O threads).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transports/http/connection.hpp"

namespace mcpd::transports::http {

// Opens a listening acceptor on host:port (a numeric address or a name, whose first address is
// used). Throws mcpd::Error when it cannot ("address already in use", ...).
tcp::acceptor bind_acceptor(net::io_context& ioc, const std::string& host, std::uint16_t port);
// Adopts a listening TCP socket passed by systemd. Throws mcpd::Error for anything else (a
// UNIX socket, a datagram socket, a socket that does not listen).
tcp::acceptor adopt_acceptor(net::io_context& ioc, int fd);

ListenerInfo describe(const tcp::acceptor& acceptor);

// Every live connection, for shutdown, and the moment the last one is gone (so shutdown waits
// for an event instead of looking again and again).
class ConnectionSet {
 public:
  ConnectionSet();

  // Owns a new connection: tracked for shut_down_all() and counted until it is destroyed.
  std::shared_ptr<Connection> adopt(std::unique_ptr<Connection> connection);
  void shut_down_all();

  // Runs `callback` once, on the thread that destroys the last connection, or at once when
  // there is none. A later call replaces it; an empty callback cancels.
  void when_empty(std::function<void()> callback);
  std::size_t size() const;

 private:
  // Shared with the connections' deleters, which may outlive the set (handlers still queued in
  // the io_context when the server is destroyed).
  struct Count {
    std::mutex mutex;
    std::size_t live = 0;
    std::function<void()> on_empty;
    void released();
  };

  mutable std::mutex m_mutex;
  std::vector<std::weak_ptr<Connection>> m_connections;
  std::shared_ptr<Count> m_count;
};

// Who gets in. Below `max_connections` open connections, everyone. Up to `probe_headroom` more
// are admitted for one request each, with short deadlines, so that health, liveness, readiness
// and metrics still answer at the cap (anything else they ask is refused by the router with
// 503). Past that, a connection is answered at once with a canned 503 and closed, without
// reading it. Every refusal calls `on_refused`.
struct Admission {
  std::size_t max_connections = 1024;
  std::size_t probe_headroom = 32;
  std::function<void()> on_refused = nullptr;
};

// The canned answer to a connection over the cap: 503, a JSON body
// {"error":"too_many_connections",...}, Retry-After and Connection: close.
Response too_many_connections();

// The io_context of the next accepted connection; called on the acceptor's strand.
using ContextPicker = std::function<net::io_context&()>;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Accepts on the acceptor's own executor; each connection lives on `contexts()`.
  Listener(ContextPicker contexts, tcp::acceptor acceptor, const ConnectionLimits& limits,
           RequestHandler handler, StatusObserver observer, ConnectionSet& connections,
           Admission admission = {});

  void start();
  void stop();
  const ListenerInfo& info() const { return *m_info; }

 private:
  void accept();
  void on_accept(Socket socket);
  // Answers and closes a connection we will not serve, without blocking.
  void turn_away(Socket& socket);

  ContextPicker m_contexts;
  tcp::acceptor m_acceptor;
  std::shared_ptr<const ListenerInfo> m_info;
  const ConnectionLimits& m_limits;
  ConnectionLimits m_probe_limits;  // short deadlines for connections past the cap
  Admission m_admission;
  std::string m_refusal;  // the serialized too_many_connections()
  RequestHandler m_handler;
  StatusObserver m_observer;
  ConnectionSet& m_connections;
  net::steady_timer m_backoff;
};

}  // namespace mcpd::transports::http
