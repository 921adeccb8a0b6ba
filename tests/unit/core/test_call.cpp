// CancelToken's eventfd is made on first use; whichever comes first, cancel() or fd(), the fd a
// poll() loop gets is readable once the token is cancelled.
#include <poll.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "core/protocol/call.hpp"

using mcpd::core::CancelToken;

namespace {

bool readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, 0) == 1 && (entry.revents & POLLIN) != 0;
}

}  // namespace

TEST_CASE("CancelToken makes one eventfd, on first use", "[core][call]") {
  CancelToken token;
  const int fd = token.fd();
  REQUIRE(fd >= 0);
  CHECK(token.fd() == fd);
  CHECK_FALSE(readable(fd));
  token.cancel();
  CHECK(readable(fd));
  CHECK(token.fd() == fd);
}

TEST_CASE("a CancelToken cancelled before fd() hands out a readable fd", "[core][call]") {
  CancelToken token;
  token.cancel();
  CHECK(token.cancelled());
  const int fd = token.fd();
  REQUIRE(fd >= 0);
  CHECK(readable(fd));
}

TEST_CASE("an uncancelled CancelToken that never polled needs no fd", "[core][call]") {
  // Nothing to observe but that construction, cancel and destruction work without fd().
  CancelToken token;
  CHECK_FALSE(token.cancelled());
  token.cancel();
  CHECK(token.cancelled());
}

TEST_CASE("threads racing fd() share one eventfd", "[core][call]") {
  for (int round = 0; round < 50; ++round) {
    CancelToken token;
    std::vector<int> seen(4, -2);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { seen[t] = token.fd(); });
    for (auto& thread : threads) thread.join();
    REQUIRE(seen[0] >= 0);
    CHECK(seen == std::vector<int>(4, seen[0]));
  }
}

TEST_CASE("cancel() racing the first fd() never loses the wake-up", "[core][call]") {
  for (int round = 0; round < 200; ++round) {
    CancelToken token;
    std::atomic<bool> go{false};
    int fd = -1;
    std::thread poller([&] {
      while (!go.load()) {
      }
      fd = token.fd();
    });
    std::thread canceller([&] {
      while (!go.load()) {
      }
      token.cancel();
    });
    go = true;
    poller.join();
    canceller.join();
    REQUIRE(fd >= 0);
    CHECK(readable(fd));
  }
}
