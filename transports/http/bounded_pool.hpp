#pragma once
// A thread pool whose queue is bounded. boost::asio::thread_pool queues without limit, so a
// flood of slow requests would grow memory and everyone's latency without end; here a job that
// finds `max_queued` others waiting for a thread is refused at once, and the caller answers 503
// with Retry-After: the client backs off and the server stays responsive.
//
// A place in the queue is reserved first and the job posted with it later, so a caller can
// refuse a request before it commits to anything (a response stream, a 202). A place is taken
// from reserve() until the job starts running; jobs that are running do not count.

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "transports/http/response.hpp"

namespace mcpd::transports::http {

class BoundedPool {
 public:
  // A reserved place in the queue, given back when destroyed unused.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : m_pool(std::exchange(other.m_pool, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();
    explicit operator bool() const { return m_pool != nullptr; }

   private:
    friend class BoundedPool;
    explicit Slot(BoundedPool* pool) : m_pool(pool) {}
    BoundedPool* m_pool = nullptr;
  };

  // `name` labels the rejections (mcp_overload_rejections_total{pool}); `on_rejected` is called
  // for each refused reservation, from the refusing thread.
  BoundedPool(std::string name, std::size_t threads, std::size_t max_queued,
              std::function<void()> on_rejected = nullptr);
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // A place in the queue; an empty Slot when `max_queued` jobs are already waiting.
  Slot reserve();
  // Runs `job` on a pool thread, in the place `slot` reserved (which must not be empty).
  template <class F>
  void post(Slot slot, F&& job);
  // reserve() and post() in one: false, and nothing runs, when the queue is full.
  template <class F>
  bool try_post(F&& job);

  // Jobs waiting for a thread.
  std::size_t queued() const { return m_queued.load(std::memory_order_relaxed); }
  std::size_t max_queued() const { return m_max_queued; }
  const std::string& name() const { return m_name; }

  // Waits for every posted job to finish, then stops the threads.
  void join() { m_pool.join(); }

 private:
  void release() { m_queued.fetch_sub(1, std::memory_order_relaxed); }

  const std::string m_name;
  const std::size_t m_max_queued;
  std::function<void()> m_on_rejected;
  std::atomic<std::size_t> m_queued{0};
  boost::asio::thread_pool m_pool;
};

// The answer to a request refused because a queue is full: 503 with Retry-After (the pool has
// counted the refusal). A JSON-RPC error for the MCP routes, {"error","message"} elsewhere.
inline constexpr std::uint32_t k_overload_retry_after_seconds = 1;
Response overloaded(bool jsonrpc = true);

template <class F>
void BoundedPool::post(Slot slot, F&& job) {
  slot.m_pool = nullptr;  // the place is the queued job's now, until it starts
  boost::asio::post(m_pool, [this, job = std::forward<F>(job)]() mutable {
    release();
    job();
  });
}

template <class F>
bool BoundedPool::try_post(F&& job) {
  Slot slot = reserve();
  if (!slot) return false;
  post(std::move(slot), std::forward<F>(job));
  return true;
}

}  // namespace mcpd::transports::http
