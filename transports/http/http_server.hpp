#pragma once
// `mcpd serve --http`: Streamable HTTP (MCP 2025-11-25, with 2025-06-18, 2025-03-26 clients),
// the legacy HTTP+SSE transport (2024-11-05), health, readiness and metrics, on one port
// (PRODUCT.md §5). run_http_server() blocks until SIGTERM/SIGINT and a clean shutdown.
//
// Threads: `io_threads` run the sockets, each with an io_context of its own (a connection lives
// on the one it was handed, round-robin, when accepted); tool calls and other
// blocking work run on a pool of `worker_threads`; authentication lookups and readiness probes
// on a small pool of their own, so a burst of slow tools never delays a ping.
//
// Port discovery (tests, scripts): the bound address is logged ("listening on http://...")
// and, when `port_file` is set (Settings::port_file: $MCPD_PORT_FILE), the port is written to that
// file once the sockets are bound.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/config/config.hpp"
#include "core/observability/metrics.hpp"
#include "core/protocol/dispatcher.hpp"

namespace mcpd::transports::http {

struct HttpSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8001;
  bool use_socket_activation = true;  // adopt LISTEN_FDS sockets when systemd passes them
  bool stateless = false;             // --stateless: no Mcp-Session-Id, no GET stream
  bool require_auth = true;           // false: --no-auth / MCP_REQUIRE_AUTH=false
  std::vector<std::string> allowed_origins;
  // Extra Host header values accepted on loopback listeners ("name" or "name:port"), for a
  // reverse proxy on the same machine that forwards the public host name.
  std::vector<std::string> allowed_hosts;

  std::size_t io_threads = 0;  // 0: default_io_threads()
  std::size_t worker_threads = 16;
  // Requests waiting for a worker (tool calls) or for the auxiliary pool (authentication
  // lookups, readiness probes) beyond these are refused with 503 and Retry-After.
  std::size_t worker_queue_limit = 1024;
  std::size_t auxiliary_queue_limit = 256;

  // Limits and deadlines.
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 4 * 1024 * 1024;  // 413 beyond
  int max_json_depth = 64;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds sse_heartbeat{15000};
  // Open connections at most (0: the file descriptor limit less a reserve, see
  // default_max_connections). Past the cap a few more connections may still ask for health,
  // liveness, readiness or metrics; anything else is answered 503 "too many connections" with
  // Retry-After and closed.
  std::size_t max_connections = 0;

  // Sessions.
  std::size_t max_sessions = 10000;
  std::chrono::seconds session_idle_timeout{1800};
  std::chrono::seconds resume_window{30};  // an interrupted SSE stream may be resumed this long

  // Rate limiting per token (else per address) of the work (core::request_cost): a bucket of
  // `burst` (0: rate_limit_requests) refilled at requests per window. Health and metrics are
  // never limited.
  std::uint32_t rate_limit_requests = 100;
  double rate_limit_window_seconds = 60;
  std::uint32_t rate_limit_burst = 0;

  // Shutdown: calls in flight get this long to finish, then they are cancelled.
  std::chrono::milliseconds shutdown_grace{10000};

  std::string port_file;  // write the bound port here (Settings::port_file)
};

// Raises the soft RLIMIT_NOFILE to the hard limit (once, at startup) and returns the connection
// cap that leaves room for everything else the process opens (SQLite, exec pipes, upstream
// connections): the limit less max(256, limit / 8).
std::size_t default_max_connections();

// The I/O threads when none are configured: one per core (hardware_concurrency), at least 1,
// at most k_default_io_threads_cap (more needs an explicit setting).
inline constexpr std::size_t k_default_io_threads_cap = 64;
std::size_t default_io_threads();

// The HTTP settings from mcpd's settings (listen address, auth, rate limits, origins, ...).
HttpSettings http_settings(const core::Settings& settings);

struct ReadinessCheck {
  std::string name;             // "storage", "upstream:django"
  std::function<bool()> check;  // may block; run off the I/O threads
};

struct HttpServices {
  core::Dispatcher& dispatcher;
  // Required when require_auth is true.
  std::shared_ptr<core::auth::Authenticator> authenticator = nullptr;
  // Optional: counts requests, errors, sessions, auth failures and (as the dispatcher's
  // CallObserver) tool calls; served on GET /metrics.
  std::shared_ptr<core::Metrics> metrics = nullptr;
  // GET /ready and /health answer 503 unless all of these pass.
  std::vector<ReadinessCheck> readiness = {};
};

// Binds (or adopts systemd's sockets), tells systemd READY=1, serves until SIGTERM/SIGINT,
// then drains and returns 0. Throws mcpd::Error when it cannot start: a port in use, a
// non-loopback address without authentication, no authenticator while auth is required.
int run_http_server(const HttpSettings& settings, const HttpServices& services);

}  // namespace mcpd::transports::http
