#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>

#include "transports/systemd/systemd.hpp"

using namespace mcpd::transports::systemd;
namespace fs = std::filesystem;

namespace {

// A datagram socket standing in for systemd's notification socket.
class FakeNotifySocket {
 public:
  explicit FakeNotifySocket(std::string name) : m_name(std::move(name)) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, m_name.data(), m_name.size());
    if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_name.size());
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), length) == 0);
  }
  ~FakeNotifySocket() {
    ::close(m_fd);
    if (m_name[0] != '@') ::unlink(m_name.c_str());
  }
  std::string receive() {
    char buffer[256];
    const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
    return n < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  std::string m_name;
  int m_fd = -1;
};

}  // namespace

TEST_CASE("sd_notify datagrams reach a path socket", "[transports][systemd]") {
  const std::string path =
      (fs::temp_directory_path() / ("mcpd-notify-" + std::to_string(::getpid()))).string();
  FakeNotifySocket socket(path);
  CHECK(notify_to(path, "READY=1"));
  CHECK(socket.receive() == "READY=1");
  CHECK(notify_to(path, "STOPPING=1"));
  CHECK(socket.receive() == "STOPPING=1");
}

TEST_CASE("sd_notify datagrams reach an abstract socket", "[transports][systemd]") {
  const std::string name = "@mcpd-notify-test-" + std::to_string(::getpid());
  FakeNotifySocket socket(name);
  CHECK(notify_to(name, "WATCHDOG=1"));
  CHECK(socket.receive() == "WATCHDOG=1");
}

TEST_CASE("sd_notify without a socket is a no-op", "[transports][systemd]") {
  CHECK_FALSE(notify_to("", "READY=1"));
  CHECK_FALSE(notify_to("/nonexistent/mcpd/notify", "READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(notify("READY=1"));
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC", "[transports][systemd]") {
  CHECK(watchdog_interval("30000000", nullptr, 42) == std::chrono::microseconds(15000000));
  CHECK(watchdog_interval("30000000", "42", 42) == std::chrono::microseconds(15000000));
  CHECK_FALSE(watchdog_interval("30000000", "43", 42));
  CHECK_FALSE(watchdog_interval(nullptr, nullptr, 42));
  CHECK_FALSE(watchdog_interval("0", nullptr, 42));
  CHECK_FALSE(watchdog_interval("soon", nullptr, 42));
}

TEST_CASE("socket activation honours LISTEN_PID", "[transports][systemd]") {
  CHECK(listen_fds_count("42", "2", 42) == 2);
  CHECK(listen_fds_count("41", "2", 42) == 0);
  CHECK(listen_fds_count(nullptr, "2", 42) == 0);
  CHECK(listen_fds_count("42", nullptr, 42) == 0);
  CHECK(listen_fds_count("42", "x", 42) == 0);
  CHECK(listen_fds_count("42", "-1", 42) == 0);
  CHECK(k_listen_fds_start == 3);
}

TEST_CASE("taking the listen fds clears the environment", "[transports][systemd]") {
  ::setenv("LISTEN_PID", "1", 1);  // not us
  ::setenv("LISTEN_FDS", "1", 1);
  CHECK(take_listen_fds().empty());
  CHECK(std::getenv("LISTEN_PID") == nullptr);
  CHECK(std::getenv("LISTEN_FDS") == nullptr);
}
