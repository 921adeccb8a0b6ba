#include "storage/postgres/change_watcher.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <pqxx/pqxx>
#include <system_error>

namespace mcpd::storage::postgres {
namespace {

using namespace std::chrono_literals;

constexpr auto k_backoff_min = 250ms;
constexpr auto k_backoff_max = 5s;
// An idle LISTEN connection is checked this often with a round trip, so a peer that vanished
// without a word is noticed even where TCP keepalives are off.
constexpr auto k_liveness_interval = 30s;

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, const core::auth::ChangeListener& listener)
      : pqxx::notification_receiver(connection, k_change_channel), m_listener(listener) {}

  void operator()(const std::string& payload, int) override {
    spdlog::debug("auth change notice: '{}'", payload);
    m_listener(payload);
  }

 private:
  const core::auth::ChangeListener& m_listener;
};

}  // namespace

ChangeWatcher::ChangeWatcher(std::string conninfo, std::string display_url,
                             core::auth::ChangeListener listener)
    : m_conninfo(std::move(conninfo)),
      m_display_url(std::move(display_url)),
      m_listener(std::move(listener)),
      m_wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (m_wake_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  m_thread = std::thread([this] { run(); });
}

ChangeWatcher::~ChangeWatcher() {
  const std::uint64_t one = 1;
  (void)!::write(m_wake_fd, &one, sizeof one);
  m_thread.join();
  ::close(m_wake_fd);
}

bool ChangeWatcher::wait(int fd, std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds{pollfd{m_wake_fd, POLLIN, 0}, pollfd{fd, POLLIN, 0}};
  for (;;) {
    const int ready = ::poll(fds.data(), fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    return !(ready > 0 && (fds[0].revents & POLLIN));
  }
}

void ChangeWatcher::listen_once(bool& was_lost) {
  pqxx::connection connection(m_conninfo);
  // Told apart from the pool's connections in pg_stat_activity.
  pqxx::nontransaction(connection).exec("SET application_name = 'mcpd-auth-notices'");
  Receiver receiver(connection, m_listener);  // LISTEN mcpd_auth
  if (!connection.is_open() || connection.sock() < 0)
    throw pqxx::broken_connection("connection closed while starting to listen");
  if (was_lost)
    spdlog::info("auth change notices: listening on {} again; auth cache cleared", m_display_url);
  else
    spdlog::debug("auth change notices: listening on {} (channel {})", m_display_url,
                  k_change_channel);
  was_lost = false;
  // Whatever changed while nobody listened is unknown: forget it all.
  m_listener("");
  auto last_round_trip = std::chrono::steady_clock::now();
  for (;;) {
    if (!wait(connection.sock(), k_liveness_interval)) return;  // stop
    if (std::chrono::steady_clock::now() - last_round_trip >= k_liveness_interval) {
      pqxx::nontransaction(connection).exec("SELECT 1");
      last_round_trip = std::chrono::steady_clock::now();
    }
    connection.get_notifs();  // throws broken_connection when the server went away
    if (!connection.is_open() || connection.sock() < 0)
      throw pqxx::broken_connection("connection closed");
  }
}

void ChangeWatcher::run() {
  bool was_lost = false;
  std::chrono::milliseconds backoff{0};
  for (;;) {
    try {
      listen_once(was_lost);
      return;
    } catch (const std::exception& e) {
      if (!was_lost)
        spdlog::warn(
            "auth change notices: lost the connection to {}: {}; reconnecting (until then "
            "revocations reach this replica within the auth cache lifetime)",
            m_display_url, one_line(e.what()));
      else
        spdlog::debug("auth change notices: {} still unreachable: {}", m_display_url,
                      one_line(e.what()));
      if (!was_lost) backoff = 0ms;
      was_lost = true;
    }
    backoff = std::clamp(backoff * 2, std::chrono::milliseconds{k_backoff_min},
                         std::chrono::milliseconds{k_backoff_max});
    if (!wait(-1, backoff)) return;
  }
}

}  // namespace mcpd::storage::postgres
