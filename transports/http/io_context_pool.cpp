#include "transports/http/io_context_pool.hpp"

#include <pthread.h>

#include <algorithm>
#include <thread>

namespace mcpd::transports::http {

// An io_context whose shutdown (protected in execution_context) the pool may call early.
// shutdown() destroys the queued handlers and leaves the services alive, so that a socket
// closed afterwards by one of those handlers' destructors still finds its reactor; it is
// idempotent, and the destructor calls it again before destroying the services.
class IoContextPool::Context : public net::io_context {
 public:
  Context() : net::io_context(1) {}
  using net::io_context::shutdown;
};

IoContextPool::IoContextPool(std::size_t size) {
  const std::size_t n = std::max<std::size_t>(1, size);
  m_contexts.reserve(n);
  for (std::size_t i = 0; i < n; ++i) m_contexts.push_back(std::make_unique<Context>());
  m_guards.reserve(n - 1);
  for (std::size_t i = 1; i < n; ++i) m_guards.push_back(net::make_work_guard(*m_contexts[i]));
}

IoContextPool::~IoContextPool() {
  m_guards.clear();
  for (auto& context : m_contexts) context->shutdown();
  // Then destroyed in reverse order, context 0 (the acceptors, the server's strand) last.
  while (!m_contexts.empty()) m_contexts.pop_back();
}

net::io_context& IoContextPool::main() {
  return *m_contexts.front();
}

net::io_context& IoContextPool::next() {
  const std::size_t i = m_next.fetch_add(1, std::memory_order_relaxed) % m_contexts.size();
  return *m_contexts[i];
}

void IoContextPool::run() {
  std::vector<std::thread> threads;
  threads.reserve(m_contexts.size() - 1);
  for (std::size_t i = 1; i < m_contexts.size(); ++i)
    threads.emplace_back([context = m_contexts[i].get()] {
      // Named for ps -L, top -H and gdb (context 0 runs on the caller's thread, left as it is).
      pthread_setname_np(pthread_self(), "mcpd-io");
      context->run();
    });
  m_contexts.front()->run();
  stop();  // context 0 is done: so is the server, whichever way it got there
  for (auto& thread : threads) thread.join();
  for (auto& guard : m_guards) guard.reset();
}

void IoContextPool::stop() {
  for (auto& context : m_contexts) context->stop();
}

}  // namespace mcpd::transports::http
