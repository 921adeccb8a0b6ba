#include "core/call.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace mcpd::core {

bool Identity::can_use_tool(const std::string& tool) const {
  if (!valid) return false;
  return allowed_tools.empty() ||
         std::find(allowed_tools.begin(), allowed_tools.end(), tool) != allowed_tools.end();
}

CancelToken::CancelToken() : m_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (m_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

CancelToken::~CancelToken() {
  if (m_fd >= 0) ::close(m_fd);
}

void CancelToken::cancel() noexcept {
  if (m_cancelled.exchange(true, std::memory_order_acq_rel)) return;
  // The counter only needs to become non-zero once; a failed write (counter overflow) is
  // impossible for a single increment, so the result is deliberately ignored.
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(m_fd, &one, sizeof one);
}

}  // namespace mcpd::core
