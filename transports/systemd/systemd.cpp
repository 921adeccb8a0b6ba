#include "transports/systemd/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

// NOTIFY_SOCKET, WATCHDOG_USEC/WATCHDOG_PID and LISTEN_PID/LISTEN_FDS are read with getenv
// on purpose: they are not settings but systemd's protocol with this process (sd_notify(3),
// sd_listen_fds(3)), read where they are used, and LISTEN_* are unset once taken so children
// do not inherit them.
namespace mcpd::transports::systemd {

namespace {

template <class T>
std::optional<T> parse_number(const char* text) {
  if (!text || !*text) return std::nullopt;
  T value{};
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

bool notify_to(std::string_view socket_name, std::string_view state) {
  if (socket_name.empty()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_name.size() >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, socket_name.data(), socket_name.size());
  // "@name" is an abstract socket: a leading NUL, and the length says where the name ends.
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size());

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent = -1;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

bool notify(std::string_view state) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  return socket_name && notify_to(socket_name, state);
}

std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid,
                                                           long self) {
  const auto micros = parse_number<unsigned long long>(usec);
  if (!micros || *micros == 0) return std::nullopt;
  if (pid && *pid) {
    const auto owner = parse_number<long>(pid);
    if (!owner || *owner != self) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<long long>(*micros / 2));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  return watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"),
                           static_cast<long>(::getpid()));
}

int listen_fds_count(const char* listen_pid, const char* listen_fds, long self) {
  const auto pid = parse_number<long>(listen_pid);
  const auto count = parse_number<int>(listen_fds);
  if (!pid || *pid != self || !count || *count <= 0) return 0;
  return *count;
}

std::vector<int> take_listen_fds() {
  const int count = listen_fds_count(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                     static_cast<long>(::getpid()));
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  std::vector<int> fds;
  for (int fd = k_listen_fds_start; fd < k_listen_fds_start + count; ++fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) continue;  // not open after all
    ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    fds.push_back(fd);
  }
  return fds;
}

}  // namespace mcpd::transports::systemd
