// The HTTP server's lifecycle: listen (or adopt systemd's sockets), refuse unsafe setups, tell
// systemd we are ready, serve on N I/O threads (one io_context each), and on SIGTERM/SIGINT
// drain: stop accepting, let calls in flight finish within the grace period, cancel the rest,
// close the streams, exit.

#include "transports/http/http_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/auth/rate_limit.hpp"
#include "core/config/error.hpp"
#include "core/observability/log.hpp"
#include "transports/http/io_context_pool.hpp"
#include "transports/http/listener.hpp"
#include "transports/http/server_context.hpp"
#include "transports/systemd/systemd.hpp"

namespace mcpd::transports::http {

namespace {

using boost::system::error_code;

constexpr std::chrono::seconds k_sweep_interval{5};
constexpr std::chrono::seconds k_cancel_grace{5};  // cancelled calls get this long to return
constexpr std::chrono::seconds k_flush_limit{2};   // last responses get this long to go out
constexpr std::size_t k_auxiliary_threads = 2;

core::RateLimitOptions rate_options(const HttpSettings& settings) {
  core::RateLimitOptions options;
  options.requests = settings.rate_limit_requests;
  options.window_seconds = settings.rate_limit_window_seconds;
  options.burst = settings.rate_limit_burst;
  return options;
}

ConnectionLimits connection_limits(const HttpSettings& settings) {
  ConnectionLimits limits;
  limits.header_limit = settings.header_limit;
  limits.body_limit = settings.body_limit;
  limits.header_timeout = settings.header_timeout;
  limits.idle_timeout = settings.idle_timeout;
  limits.body_timeout = settings.body_timeout;
  limits.write_timeout = settings.write_timeout;
  limits.heartbeat = settings.sse_heartbeat;
  return limits;
}

// Counts a pool's refusals in mcp_overload_rejections_total and logs them, sparingly: an
// overloaded server must not also flood its log.
std::function<void()> rejection_counter(core::Metrics* metrics, std::string pool) {
  auto count = std::make_shared<std::atomic<std::uint64_t>>(0);
  return [metrics, pool = std::move(pool), count] {
    if (metrics) metrics->overload_rejection(pool);
    const auto n = count->fetch_add(1, std::memory_order_relaxed) + 1;
    if (n == 1 || n % 1000 == 0)
      spdlog::warn("the {} queue is full: refused a request with 503 ({} so far)", pool, n);
  };
}

SessionOptions session_options(const HttpSettings& settings, core::Dispatcher& dispatcher) {
  SessionOptions options;
  options.subscriptions = &dispatcher.subscriptions();
  options.max_sessions = settings.max_sessions;
  options.idle_timeout = settings.session_idle_timeout;
  options.resume_window = settings.resume_window;
  return options;
}

// Written atomically (temporary file + rename) so a reader never sees a partial port.
void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out) throw Error("cannot write the port file " + temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) throw Error("cannot write the port file " + path + ": " + ec.message());
}

class Server {
 public:
  Server(const HttpSettings& settings, const HttpServices& services)
      : m_settings(with_dispatcher_limits(settings, services.dispatcher)),
        m_services(services),
        m_contexts(m_settings.io_threads > 0 ? m_settings.io_threads : default_io_threads()),
        m_workers("workers", m_settings.worker_threads, m_settings.worker_queue_limit,
                  rejection_counter(services.metrics.get(), "workers")),
        m_auxiliary("auxiliary", k_auxiliary_threads, m_settings.auxiliary_queue_limit,
                    rejection_counter(services.metrics.get(), "auxiliary")),
        m_limiter(rate_options(m_settings)),
        m_failure_limiter(core::RateLimiter::auth_failure_defaults()),
        m_sessions(session_options(m_settings, services.dispatcher), services.metrics.get()),
        m_auth(m_settings.require_auth, services.authenticator, m_limiter, m_failure_limiter,
               services.metrics.get(), m_auxiliary),
        m_ctx{m_settings,         services.dispatcher, services.metrics.get(),
              services.readiness, m_sessions,          m_auth,
              m_workers,          m_auxiliary},
        m_limits(connection_limits(m_settings)),
        m_strand(net::make_strand(m_contexts.main())),
        m_signals(m_strand, SIGTERM, SIGINT),
        m_sweep_timer(m_strand),
        m_watchdog_timer(m_strand),
        m_shutdown_timer(m_strand) {}

  int run() {
    if (m_settings.require_auth && !m_services.authenticator)
      throw Error("authentication is required but no token storage is configured");
    admit();
    open_listeners();
    refuse_unsafe_setups();
    prepare_services();

    m_signals.async_wait([this](error_code ec, int signal) { on_signal(ec, signal); });
    schedule_sweep();
    for (const auto& listener : m_listeners) {
      listener->start();
      spdlog::info(
          "listening on http://{} (Streamable HTTP at /mcp; legacy SSE at /mcp/sse + "
          "/mcp/messages, also /sse + /messages) on {} I/O thread(s)",
          listener->info().address, m_contexts.size());
    }
    // Whoever waits for the port file or READY=1 finds the startup lines already written.
    core::log::flush();
    if (!m_settings.port_file.empty())
      write_port_file(m_settings.port_file, m_listeners.front()->info().port);
    systemd::notify("READY=1\nSTATUS=serving MCP on " + m_listeners.front()->info().address);
    schedule_watchdog();

    m_contexts.run();

    // Calls were cancelled or have finished; what is left returns promptly.
    m_workers.join();
    m_auxiliary.join();
    if (m_services.metrics) {
      m_services.metrics->set_rate_limit_clients_source(nullptr);
      m_services.metrics->set_http_connections_source(nullptr);
    }
    spdlog::info("HTTP server stopped");
    return k_exit_ok;
  }

 private:
  enum class Phase { serving, draining, cancelling, flushing, stopped };

  static HttpSettings with_dispatcher_limits(HttpSettings settings,
                                             const core::Dispatcher& dispatcher) {
    settings.max_json_depth = dispatcher.options().max_json_depth;
    return settings;
  }

  // The connection cap (and the file descriptor limit raised to its hard limit, whatever the cap).
  void admit() {
    const std::size_t automatic = default_max_connections();
    m_admission.max_connections =
        m_settings.max_connections > 0 ? m_settings.max_connections : automatic;
    spdlog::info("serving at most {} HTTP connections at once", m_admission.max_connections);
    if (m_admission.max_connections > automatic)
      spdlog::warn(
          "max_connections {} is more than the open-file limit leaves room for ({}): accept may "
          "fail with EMFILE (it is retried) and tool calls may fail to start",
          m_admission.max_connections, automatic);
    auto* metrics = m_services.metrics.get();
    auto refused = std::make_shared<std::atomic<std::uint64_t>>(0);
    m_admission.on_refused = [metrics, refused] {
      if (metrics) metrics->connection_refused();
      const auto n = refused->fetch_add(1, std::memory_order_relaxed) + 1;
      if (n == 1 || n % 1000 == 0)
        spdlog::warn("at the connection cap: refused a connection with 503 ({} so far)", n);
    };
  }

  void open_listeners() {
    std::vector<tcp::acceptor> acceptors;
    if (m_settings.use_socket_activation) {
      for (const int fd : systemd::take_listen_fds())
        acceptors.push_back(adopt_acceptor(m_contexts.main(), fd));
      if (!acceptors.empty())
        spdlog::info("using {} socket(s) passed by systemd; the listen setting is ignored",
                     acceptors.size());
    }
    if (acceptors.empty())
      acceptors.push_back(bind_acceptor(m_contexts.main(), m_settings.host, m_settings.port));

    auto handler = [this](std::shared_ptr<Exchange> exchange,
                          std::shared_ptr<IncomingRequest> request) {
      handle_request(m_ctx, exchange, request);
    };
    StatusObserver observer;
    if (auto* metrics = m_services.metrics.get()) {
      observer = [metrics](unsigned status) {
        metrics->request();
        if (status >= 400) metrics->error();
      };
    }
    // Accepted on context 0, each connection served on the next context, round-robin.
    auto next_context = [this]() -> net::io_context& { return m_contexts.next(); };
    for (auto& acceptor : acceptors)
      m_listeners.push_back(std::make_shared<Listener>(next_context, std::move(acceptor), m_limits,
                                                       handler, observer, m_connections,
                                                       m_admission));
  }

  void refuse_unsafe_setups() {
    if (m_settings.require_auth) return;
    for (const auto& listener : m_listeners)
      if (!listener->info().loopback)
        throw Error("refusing to serve without authentication on " + listener->info().address +
                    ", which is not a loopback address: enable authentication or listen on "
                    "127.0.0.1");
    spdlog::warn("*****************************************************************");
    spdlog::warn("* AUTHENTICATION IS OFF (--no-auth / MCP_REQUIRE_AUTH=false):    *");
    spdlog::warn("* anyone who can reach this port may call every tool.           *");
    spdlog::warn("* Use this for local development only.                          *");
    spdlog::warn("*****************************************************************");
  }

  void prepare_services() {
    if (auto metrics = m_services.metrics) {
      m_services.dispatcher.set_observer(metrics);
      metrics->set_rate_limit_clients_source(
          [this] { return m_limiter.size() + m_failure_limiter.size(); });
      metrics->set_http_connections_source([this] { return m_connections.size(); });
    }
    m_ctx.on_drained = [this] { net::post(m_strand, [this] { on_drained(); }); };
  }

  void schedule_sweep() {
    m_sweep_timer.expires_after(k_sweep_interval);
    m_sweep_timer.async_wait([this](error_code ec) {
      if (ec || m_phase == Phase::stopped) return;
      m_sessions.sweep();
      const auto now = core::RateLimiter::Clock::now();
      m_limiter.prune(now);
      m_failure_limiter.prune(now);
      schedule_sweep();
    });
  }

  // WATCHDOG=1 from the event loop itself: a stuck loop stops the pings.
  void schedule_watchdog() {
    const auto interval = systemd::watchdog_interval();
    if (!interval) return;
    systemd::notify("WATCHDOG=1");
    m_watchdog_timer.expires_after(*interval);
    m_watchdog_timer.async_wait([this](error_code ec) {
      if (!ec && m_phase != Phase::stopped) schedule_watchdog();
    });
  }

  void on_signal(error_code ec, int signal) {
    if (ec) return;
    if (m_phase == Phase::serving) {
      begin_shutdown(signal);
    } else if (m_phase == Phase::draining) {
      spdlog::warn("second signal: cancelling the calls still running");
      cancel_remaining();
    }
    if (m_phase != Phase::stopped)
      m_signals.async_wait([this](error_code next, int again) { on_signal(next, again); });
  }

  void begin_shutdown(int signal) {
    m_phase = Phase::draining;
    m_ctx.stopping = true;
    systemd::notify("STOPPING=1");
    spdlog::info("{} received: stopping ({} call(s) in flight, {} session(s))",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT", m_ctx.in_flight.load(),
                 m_sessions.size());
    for (const auto& listener : m_listeners) listener->stop();
    // Open listens end gracefully: their final result, then the end of their streams.
    m_services.dispatcher.subscriptions().close_all(m_services.dispatcher.server_info());
    m_sessions.close_idle_streams();
    m_connections.shut_down_all();
    if (m_ctx.in_flight == 0) {
      flush();
      return;
    }
    m_shutdown_timer.expires_after(m_settings.shutdown_grace);
    m_shutdown_timer.async_wait([this](error_code ec) {
      if (!ec && m_phase == Phase::draining) cancel_remaining();
    });
  }

  void cancel_remaining() {
    if (m_phase != Phase::draining) return;
    m_phase = Phase::cancelling;
    spdlog::warn("cancelling {} call(s) still running", m_ctx.in_flight.load());
    m_sessions.end_all();
    m_sessions.cancel_ephemeral();
    if (m_ctx.in_flight == 0) {
      flush();
      return;
    }
    m_shutdown_timer.expires_after(k_cancel_grace);
    m_shutdown_timer.async_wait([this](error_code ec) {
      if (!ec && m_phase == Phase::cancelling) flush();
    });
  }

  void on_drained() {
    if (m_phase == Phase::draining || m_phase == Phase::cancelling) flush();
  }

  // Everything has answered: end the sessions, let the last bytes go out, stop.
  void flush() {
    if (m_phase == Phase::flushing || m_phase == Phase::stopped) return;
    m_phase = Phase::flushing;
    m_shutdown_timer.cancel();
    m_sessions.end_all();
    m_connections.shut_down_all();
    // Stop when the last connection is gone, or at the deadline, whichever comes first.
    m_shutdown_timer.expires_after(k_flush_limit);
    m_shutdown_timer.async_wait([this](error_code ec) {
      if (!ec) stop();
    });
    m_connections.when_empty([this] { net::post(m_strand, [this] { stop(); }); });
  }

  void stop() {
    if (m_phase == Phase::stopped) return;
    m_phase = Phase::stopped;
    m_connections.when_empty(nullptr);
    m_shutdown_timer.cancel();
    error_code ec;
    m_signals.cancel(ec);
    m_sweep_timer.cancel();
    m_watchdog_timer.cancel();
    m_contexts.stop();
  }

  const HttpSettings m_settings;
  const HttpServices& m_services;
  // Declared before everything that lives in it, so destroyed after all of it: connections'
  // deleters may run from handlers the contexts still hold (see ConnectionSet).
  IoContextPool m_contexts;
  BoundedPool m_workers;
  BoundedPool m_auxiliary;
  core::RateLimiter m_limiter;
  core::RateLimiter m_failure_limiter;
  SessionRegistry m_sessions;
  AuthGate m_auth;
  ServerContext m_ctx;
  ConnectionLimits m_limits;
  Admission m_admission;
  ConnectionSet m_connections;
  std::vector<std::shared_ptr<Listener>> m_listeners;
  net::strand<net::io_context::executor_type> m_strand;
  net::signal_set m_signals;
  net::steady_timer m_sweep_timer;
  net::steady_timer m_watchdog_timer;
  net::steady_timer m_shutdown_timer;
  Phase m_phase = Phase::serving;
};

}  // namespace

HttpSettings http_settings(const core::Settings& settings) {
  HttpSettings http;
  http.host = settings.listen_host;
  http.port = settings.listen_port;
  http.stateless = settings.stateless;
  http.require_auth = settings.require_auth;
  http.allowed_origins = settings.allowed_origins;
  http.rate_limit_requests = static_cast<std::uint32_t>(std::max(1, settings.rate_limit_requests));
  http.rate_limit_window_seconds = static_cast<double>(settings.rate_limit_window.count());
  http.rate_limit_burst = static_cast<std::uint32_t>(std::max(0, settings.rate_limit_burst));
  http.port_file = settings.port_file.string();
  http.max_connections = static_cast<std::size_t>(std::max(0, settings.max_connections));
  http.io_threads = static_cast<std::size_t>(std::max(0, settings.io_threads));
  http.header_timeout = settings.http_timeouts.header;
  http.body_timeout = settings.http_timeouts.body;
  http.idle_timeout = settings.http_timeouts.idle;
  http.write_timeout = settings.http_timeouts.write;
  return http;
}

std::size_t default_max_connections() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur != limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // RLIM_INFINITY (or anything huge) is no limit worth deriving from.
  const std::uint64_t fds = std::min<std::uint64_t>(limit.rlim_cur, 1u << 20);
  const std::uint64_t reserve = std::max<std::uint64_t>(256, fds / 8);
  return static_cast<std::size_t>(fds > reserve + 16 ? fds - reserve : 16);
}

std::size_t default_io_threads() {
  const std::size_t cores = std::thread::hardware_concurrency();  // 0: unknown
  return std::clamp<std::size_t>(cores, 1, k_default_io_threads_cap);
}

int run_http_server(const HttpSettings& settings, const HttpServices& services) {
  Server server(settings, services);
  return server.run();
}

}  // namespace mcpd::transports::http
