#include "transports/http/bounded_pool.hpp"

#include <algorithm>

namespace mcpd::transports::http {

BoundedPool::Slot& BoundedPool::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (m_pool) m_pool->release();
    m_pool = std::exchange(other.m_pool, nullptr);
  }
  return *this;
}

BoundedPool::Slot::~Slot() {
  if (m_pool) m_pool->release();
}

BoundedPool::BoundedPool(std::string name, std::size_t threads, std::size_t max_queued,
                         std::function<void()> on_rejected)
    : m_name(std::move(name)),
      m_max_queued(std::max<std::size_t>(1, max_queued)),
      m_on_rejected(std::move(on_rejected)),
      m_pool(std::max<std::size_t>(1, threads)) {}

BoundedPool::Slot BoundedPool::reserve() {
  std::size_t queued = m_queued.load(std::memory_order_relaxed);
  do {
    if (queued >= m_max_queued) {
      if (m_on_rejected) m_on_rejected();
      return Slot();
    }
  } while (!m_queued.compare_exchange_weak(queued, queued + 1, std::memory_order_relaxed));
  return Slot(this);
}

Response overloaded(bool jsonrpc) {
  std::string message = "server overloaded; retry later";
  Response response = jsonrpc ? jsonrpc_error(503, -32000, std::move(message))
                              : error_body(503, "overloaded", std::move(message));
  response.set("Retry-After", std::to_string(k_overload_retry_after_seconds));
  return response;
}

}  // namespace mcpd::transports::http
