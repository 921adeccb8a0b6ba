#pragma once
// An HTTP/1.1 client for one upstream: keep-alive connections in a pool of at most
// `pool_size`, TLS with certificate and host name verification (OpenSSL: the system CA store
// plus an optional CA file), a deadline per attempt, and cancellation.
//
// Synchronous by design: calls run on the caller's thread (a tool call's worker, never an I/O
// thread of the HTTP server). Each connection owns a small io_context that only the thread
// using the connection runs, so no strand or lock is needed around a socket.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/protocol/call.hpp"
#include "transports/upstream/address_rules.hpp"
#include "transports/upstream/retry.hpp"
#include "transports/upstream/url.hpp"

namespace mcpd::transports::upstream {

struct ClientOptions {
  std::string name;  // the upstream's name, for messages
  BaseUrl base;
  std::filesystem::path ca_file;  // extra trusted CAs (PEM); empty = system store only
  std::size_t pool_size = 20;
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  std::chrono::seconds max_idle{30};  // idle keep-alive connections older than this are closed
  // Which resolved addresses a new connection may use (the SSRF guard); default: any.
  AddressRules address_rules;
};

struct Request {
  std::string method;  // GET, POST, ...
  std::string target;  // origin-form: the base URL's prefix, the path, "?query"
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host/Content-Length
  std::optional<std::string> body;
  // May be sent again on a fresh connection when a kept-alive one turns out to be closed by
  // the upstream before any response byte (idempotent methods, or the tool's "retry").
  bool replayable = false;
};

struct Response {
  unsigned status = 0;
  std::string reason;
  std::string content_type;
  std::string body;
};

// How one attempt ended: a response, or a failure with a message naming no secret.
struct Attempt {
  Outcome outcome = Outcome::connect_failed;
  Response response;
  std::string error;  // for outcomes other than `response`, e.g. "connection refused"
};

class UpstreamClient {
 public:
  // Throws mcpd::Error when the TLS setup fails (an unreadable ca_file).
  explicit UpstreamClient(ClientOptions options);
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // One attempt within `timeout` (waiting for a free pool slot included). Never throws for
  // network trouble. `cancel` (optional) ends the wait early with Outcome::cancelled.
  Attempt send(const Request& request, std::chrono::milliseconds timeout,
               const core::CancelToken* cancel);

  const ClientOptions& options() const { return m_options; }
  std::size_t open_connections() const;

 private:
  class Connection;
  struct TlsContext;
  using Clock = std::chrono::steady_clock;

  std::unique_ptr<Connection> acquire(Clock::time_point deadline, const core::CancelToken* cancel,
                                      Attempt& failure);
  void release(std::unique_ptr<Connection> connection, bool reusable);

  ClientOptions m_options;
  std::unique_ptr<TlsContext> m_tls;
  mutable std::mutex m_mutex;
  std::condition_variable m_freed;
  std::vector<std::unique_ptr<Connection>> m_idle;
  std::size_t m_open = 0;  // idle + in use
};

}  // namespace mcpd::transports::upstream
