#include "core/protocol/call.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace mcpd::core {

bool Identity::can_use_tool(const std::string& tool) const {
  if (!valid) return false;
  return allowed_tools.empty() ||
         std::find(allowed_tools.begin(), allowed_tools.end(), tool) != allowed_tools.end();
}

namespace {

void signal(int fd) noexcept {
  // The counter only needs to become non-zero; a failed write (counter overflow) is impossible
  // for the one or two increments a token ever makes, so the result is deliberately ignored.
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(fd, &one, sizeof one);
}

}  // namespace

CancelToken::~CancelToken() {
  if (const int fd = m_fd.load(std::memory_order_acquire); fd >= 0) ::close(fd);
}

int CancelToken::fd() const noexcept {
  if (const int fd = m_fd.load(std::memory_order_acquire); fd >= 0) return fd;
  const int made = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (made < 0) return -1;
  int expected = -1;
  if (!m_fd.compare_exchange_strong(expected, made, std::memory_order_seq_cst)) {
    ::close(made);  // another thread published first
    return expected;
  }
  // Sequentially consistent with cancel(): either it sees this fd and signals it, or this
  // sees the flag (possibly both; a counter of 2 is just as readable).
  if (m_cancelled.load(std::memory_order_seq_cst)) signal(made);
  return made;
}

void CancelToken::cancel() noexcept {
  if (m_cancelled.exchange(true, std::memory_order_seq_cst)) return;
  if (const int fd = m_fd.load(std::memory_order_seq_cst); fd >= 0) signal(fd);
}

}  // namespace mcpd::core
