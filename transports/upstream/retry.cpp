#include "transports/upstream/retry.hpp"

#include <algorithm>
#include <array>

namespace mcpd::transports::upstream {

bool is_idempotent(std::string_view method) {
  static constexpr std::array<std::string_view, 5> k_idempotent = {"GET", "HEAD", "PUT", "DELETE",
                                                                   "OPTIONS"};
  return std::find(k_idempotent.begin(), k_idempotent.end(), method) != k_idempotent.end();
}

bool RetryPolicy::should_retry(std::string_view method, int attempt, Outcome outcome,
                               unsigned status) const {
  if (attempt >= max_retries) return false;
  if (!retry_non_idempotent && !is_idempotent(method)) return false;
  switch (outcome) {
    case Outcome::response:
      return status >= 500 && status <= 599;
    case Outcome::connect_failed:
    case Outcome::timed_out:
      return true;
    case Outcome::tls_failed:
    case Outcome::too_large:
    case Outcome::cancelled:
    case Outcome::refused:
      return false;
  }
  return false;
}

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double unit) const {
  const std::int64_t cap = std::max<std::int64_t>(max_delay.count(), 0);
  std::int64_t delay = std::max<std::int64_t>(base_delay.count(), 0);
  for (int i = 0; i < attempt && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  unit = std::clamp(unit, 0.0, 1.0);
  const std::int64_t half = delay / 2;
  return std::chrono::milliseconds(delay - half + static_cast<std::int64_t>(half * unit));
}

}  // namespace mcpd::transports::upstream
