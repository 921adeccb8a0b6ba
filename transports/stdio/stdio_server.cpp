#include "transports/stdio/stdio_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/config/error.hpp"
#include "core/observability/log.hpp"
#include "core/protocol/rpc.hpp"
#include "transports/stdio/worker_pool.hpp"

namespace mcpd::transports {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_read_chunk = 64 * 1024;

// The eventfd that SIGTERM/SIGINT poke; -1 when no server handles signals.
std::atomic<int> g_signal_fd{-1};

extern "C" void on_shutdown_signal(int) {
  const int saved = errno;
  const int fd = g_signal_fd.load();
  if (fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  }
  errno = saved;
}

// Installs the SIGTERM/SIGINT handlers for one run() and restores the old ones after.
class SignalGuard {
 public:
  SignalGuard(bool enabled, int wake_fd) : m_enabled(enabled) {
    if (!m_enabled) return;
    g_signal_fd.store(wake_fd);
    struct sigaction action {};
    action.sa_handler = on_shutdown_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, &m_old_term);
    sigaction(SIGINT, &action, &m_old_int);
  }
  ~SignalGuard() {
    if (!m_enabled) return;
    sigaction(SIGTERM, &m_old_term, nullptr);
    sigaction(SIGINT, &m_old_int, nullptr);
    g_signal_fd.store(-1);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  bool m_enabled;
  struct sigaction m_old_term {};
  struct sigaction m_old_int {};
};

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

json request_id(const json& message) {
  if (message.is_object() && message.contains("id") && message.contains("method"))
    return message["id"];
  return nullptr;
}

}  // namespace

int claim_stdout() {
  const int protocol_fd = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (protocol_fd < 0) throw Error(std::string("cannot duplicate stdout: ") + std::strerror(errno));
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    const int saved = errno;
    ::close(protocol_fd);
    throw Error(std::string("cannot redirect stdout to stderr: ") + std::strerror(saved));
  }
  return protocol_fd;
}

struct StdioServer::Impl {
  Impl(core::Dispatcher& dispatcher, StdioOptions options);
  ~Impl();

  void read_loop();
  void consume(const char* data, std::size_t size);
  void process_line(std::string_view line);
  void handle(const json& message);
  void run_blocking(const json& message);
  void send(const json& message);
  bool write_all(const std::string& text);
  void shutdown();
  void refresh_identity_loop();

  core::Dispatcher& m_dispatcher;
  StdioOptions m_options;
  std::shared_ptr<spdlog::logger> m_log = core::log::get("stdio");
  int m_wake_fd = -1;
  core::Session m_session;
  WorkerPool m_pool;

  std::string m_line;         // the incomplete line read so far
  bool m_discarding = false;  // skipping the rest of an oversized line

  std::mutex m_write_mutex;
  std::atomic<bool> m_output_broken{false};
  std::atomic<bool> m_abandon{false};  // after the grace period: queued calls are refused

  std::mutex m_timer_mutex;
  std::condition_variable m_timer_cv;
  bool m_timer_stop = false;
  std::thread m_timer;
};

StdioServer::Impl::Impl(core::Dispatcher& dispatcher, StdioOptions options)
    : m_dispatcher(dispatcher),
      m_options(std::move(options)),
      m_wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      m_session([this](const json& message) { send(message); }, m_options.identity),
      m_pool(m_options.max_workers, m_options.max_queued) {
  if (m_wake_fd < 0) throw Error(std::string("eventfd: ") + std::strerror(errno));
}

StdioServer::Impl::~Impl() {
  {
    std::lock_guard lock(m_timer_mutex);
    m_timer_stop = true;
  }
  m_timer_cv.notify_all();
  if (m_timer.joinable()) m_timer.join();
  // The hub's sinks write through m_session: no listen may outlive it.
  m_dispatcher.subscriptions().end_all(&m_session);
  m_session.cancel_all();
  m_pool.join();
  ::close(m_wake_fd);
}

void StdioServer::Impl::send(const json& message) {
  // Tool output may carry invalid UTF-8; replace it rather than fail the whole message.
  std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(m_write_mutex);
  if (m_output_broken.load()) return;
  if (!write_all(text)) {
    m_output_broken.store(true);
    m_log->info("output closed ({}); stopping", std::strerror(errno));
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake_fd, &one, sizeof one);
  }
}

bool StdioServer::Impl::write_all(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(m_options.output_fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A non-blocking output inherited from the parent: wait until it drains.
      pollfd out{m_options.output_fd, POLLOUT, 0};
      if (::poll(&out, 1, -1) < 0 && errno != EINTR) return false;
    } else {
      return false;  // EPIPE and friends: the client is gone
    }
  }
  return true;
}

void StdioServer::Impl::read_loop() {
  std::array<char, k_read_chunk> buffer{};
  std::array<pollfd, 2> fds{pollfd{m_options.input_fd, POLLIN, 0}, pollfd{m_wake_fd, POLLIN, 0}};
  for (;;) {
    // A regular file always polls readable, which is just what read() needs.
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      m_log->error("poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // stop(), a signal, or a broken output
    if (fds[0].revents & POLLNVAL) {
      m_log->warn("input is not open; stopping");
      return;
    }
    const ssize_t n = ::read(m_options.input_fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      m_log->error("read: {}", std::strerror(errno));
      return;
    }
    if (n == 0) {
      // A last line without its newline still counts.
      if (!m_discarding && !m_line.empty()) process_line(m_line);
      m_line.clear();
      m_log->debug("end of input");
      return;
    }
    consume(buffer.data(), static_cast<std::size_t>(n));
  }
}

void StdioServer::Impl::consume(const char* data, std::size_t size) {
  const char* end = data + size;
  while (data < end) {
    const char* newline = static_cast<const char*>(std::memchr(data, '\n', end - data));
    const char* stop = newline ? newline : end;
    const auto length = static_cast<std::size_t>(stop - data);
    if (m_discarding) {
      if (newline) m_discarding = false;
    } else if (m_line.size() + length > m_options.max_line_bytes) {
      m_log->warn("refused a message longer than {} bytes", m_options.max_line_bytes);
      send(core::make_error(nullptr, {core::rpc_code::k_invalid_request,
                                      "Invalid Request: message too large", nullptr}));
      m_line.clear();
      m_discarding = newline == nullptr;
    } else {
      m_line.append(data, length);
      if (newline) {
        process_line(m_line);
        m_line.clear();
      }
    }
    data = newline ? newline + 1 : end;
  }
}

void StdioServer::Impl::process_line(std::string_view line) {
  if (blank(line)) return;
  // nlohmann's parser rejects invalid UTF-8 inside strings, so both land here.
  auto parsed = m_dispatcher.parse(line);
  if (!parsed.message) {
    send(parsed.refusal);
    return;
  }
  json message = std::move(*parsed.message);
  if (!m_dispatcher.blocks(message)) {
    handle(message);
    return;
  }
  const json id = request_id(message);
  if (!m_pool.submit([this, message = std::move(message)] { run_blocking(message); })) {
    m_log->warn("too many requests in progress; refusing one");
    if (!id.is_null())
      send(core::make_error(id, {core::rpc_code::k_internal_error, "Server busy", nullptr}));
  }
}

void StdioServer::Impl::handle(const json& message) {
  // One id per message: in every log line while it is handled and passed to its handler.
  const std::string correlation_id = core::log::new_correlation_id();
  const core::log::CorrelationScope scope(correlation_id);
  try {
    if (auto reply = m_dispatcher.handle(message, m_session, correlation_id)) send(*reply);
  } catch (const std::exception& e) {
    // The dispatcher turns failures into replies; this is a last line of defence.
    m_log->error("unhandled error: {}", e.what());
    if (const json id = request_id(message); !id.is_null())
      send(core::make_error(id, {core::rpc_code::k_internal_error, "Internal error", nullptr}));
  }
}

void StdioServer::Impl::run_blocking(const json& message) {
  if (m_abandon.load()) {
    if (const json id = request_id(message); !id.is_null())
      send(core::make_error(id, {core::rpc_code::k_request_cancelled,
                                 "Request cancelled: server shutting down", nullptr}));
    return;
  }
  handle(message);
}

void StdioServer::Impl::shutdown() {
  // Open subscriptions/listen requests end gracefully: each gets its final result.
  m_dispatcher.subscriptions().close(&m_session, m_dispatcher.server_info());
  const bool client_gone = m_output_broken.load();
  const auto pending = m_pool.pending();
  if (pending > 0 && !client_gone) m_log->info("finishing {} request(s) before exit", pending);
  const auto grace = client_gone ? std::chrono::milliseconds(0) : m_options.shutdown_grace;
  if (!m_pool.wait_idle_until(Clock::now() + grace)) {
    m_log->info("cancelling {} request(s) still running", m_pool.pending());
    m_abandon.store(true);
    // A call may register itself just after a cancel_all(); repeat until the pool drains.
    do {
      m_session.cancel_all();
    } while (!m_pool.wait_idle_until(Clock::now() + std::chrono::milliseconds(200)));
  }
  m_pool.join();
}

void StdioServer::Impl::refresh_identity_loop() {
  std::unique_lock lock(m_timer_mutex);
  for (;;) {
    if (m_timer_cv.wait_for(lock, m_options.identity_refresh_interval,
                            [this] { return m_timer_stop; }))
      return;
    lock.unlock();
    try {
      if (auto identity = m_options.identity_refresh()) m_session.set_identity(*identity);
    } catch (const std::exception& e) {
      m_log->warn("identity refresh failed: {}", e.what());
    }
    lock.lock();
  }
}

StdioServer::StdioServer(core::Dispatcher& dispatcher, StdioOptions options)
    : m_impl(std::make_unique<Impl>(dispatcher, std::move(options))) {}

StdioServer::~StdioServer() = default;

int StdioServer::run() {
  Impl& impl = *m_impl;
  // A vanished client must surface as EPIPE on write, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  const SignalGuard signals(impl.m_options.handle_signals, impl.m_wake_fd);
  if (impl.m_options.identity_refresh)
    impl.m_timer = std::thread([&impl] { impl.refresh_identity_loop(); });

  impl.read_loop();
  impl.shutdown();

  {
    std::lock_guard lock(impl.m_timer_mutex);
    impl.m_timer_stop = true;
  }
  impl.m_timer_cv.notify_all();
  if (impl.m_timer.joinable()) impl.m_timer.join();
  return k_exit_ok;
}

void StdioServer::stop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(m_impl->m_wake_fd, &one, sizeof one);
}

core::Session& StdioServer::session() {
  return m_impl->m_session;
}

}  // namespace mcpd::transports
