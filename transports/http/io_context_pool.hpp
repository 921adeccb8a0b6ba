#pragma once
// The I/O threads' event loops: one io_context per thread, so that the threads never contend
// on one scheduler and one epoll set (the shape of Asio's "io_context per CPU" server example).
//
// Context 0 is the server's own: signals, timers, the server's strand and the acceptors live
// there, and the thread that calls run() runs it. Each other context is run by one thread of
// its own and kept running by a work guard until stop(). Accepted connections are spread over
// all of them, round-robin (next()); a connection stays on its context for its whole life.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <vector>

namespace mcpd::transports::http {

namespace net = boost::asio;

class IoContextPool {
 public:
  // `size` contexts (at least one), each for exactly one thread (concurrency hint 1). The
  // connections rely on it: a context's single thread is what serializes their handlers
  // (connection.hpp, Executor). Never run one of these contexts from a second thread.
  explicit IoContextPool(std::size_t size);
  // Shuts every context down (destroying the handlers still queued) before destroying any: a
  // handler queued on one context may own a connection whose socket belongs to another.
  ~IoContextPool();
  IoContextPool(const IoContextPool&) = delete;
  IoContextPool& operator=(const IoContextPool&) = delete;

  std::size_t size() const { return m_contexts.size(); }
  net::io_context& main();  // context 0
  // The context for the next connection, round-robin over all of them. Thread-safe.
  net::io_context& next();

  // Runs context 0 on the calling thread and every other one on a thread of its own. When
  // context 0 returns, stops the others; returns once their threads are joined.
  void run();
  // Stops every context (their pending handlers stay queued). Thread-safe.
  void stop();

 private:
  class Context;
  using WorkGuard = net::executor_work_guard<net::io_context::executor_type>;

  std::vector<std::unique_ptr<Context>> m_contexts;
  std::vector<WorkGuard> m_guards;  // for contexts 1..N-1
  std::atomic<std::size_t> m_next{0};
};

}  // namespace mcpd::transports::http
