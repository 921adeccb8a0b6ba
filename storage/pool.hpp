#pragma once
// A small fixed-size pool of database connections shared by the backends. A slot holds a
// connection or nothing (not connected yet, or dropped after an error); the backend connects
// lazily through the lease. One lease = one thread using that connection.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace mcpd::storage {

template <class Connection>
class Pool {
 public:
  explicit Pool(std::size_t size) : m_slots(size), m_free(size) {
    for (std::size_t i = 0; i < size; ++i) m_free[i] = i;
  }

  class Lease {
   public:
    Lease(Pool& pool, std::size_t slot) : m_pool(&pool), m_slot(slot) {}
    Lease(Lease&& other) noexcept : m_pool(other.m_pool), m_slot(other.m_slot) {
      other.m_pool = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (m_pool) m_pool->release(m_slot);
    }
    // The slot's connection; reset() it to drop a broken one.
    std::unique_ptr<Connection>& connection() { return m_pool->m_slots[m_slot]; }

   private:
    Pool* m_pool;
    std::size_t m_slot;
  };

  // Waits up to `wait` for a free slot. Prefers slots that already hold a connection.
  std::optional<Lease> acquire(std::chrono::milliseconds wait) {
    std::unique_lock lock(m_mutex);
    if (!m_available.wait_for(lock, wait, [&] { return !m_free.empty(); })) return std::nullopt;
    auto it = m_free.end() - 1;
    for (auto candidate = m_free.begin(); candidate != m_free.end(); ++candidate) {
      if (m_slots[*candidate]) {
        it = candidate;
        break;
      }
    }
    const std::size_t slot = *it;
    m_free.erase(it);
    return std::optional<Lease>{std::in_place, *this, slot};
  }

 private:
  void release(std::size_t slot) {
    {
      std::lock_guard lock(m_mutex);
      m_free.push_back(slot);
    }
    m_available.notify_one();
  }

  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<std::unique_ptr<Connection>> m_slots;
  std::vector<std::size_t> m_free;
};

}  // namespace mcpd::storage
