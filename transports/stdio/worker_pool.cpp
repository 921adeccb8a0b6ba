#include "transports/stdio/worker_pool.hpp"

#include <algorithm>

namespace mcpd::transports {

WorkerPool::WorkerPool(std::size_t max_threads, std::size_t max_queued)
    : m_max_threads(std::max<std::size_t>(1, max_threads)),
      m_max_queued(std::max<std::size_t>(1, max_queued)) {}

WorkerPool::~WorkerPool() {
  join();
}

bool WorkerPool::submit(Job job) {
  std::lock_guard lock(m_mutex);
  if (m_stopping || m_queue.size() >= m_max_queued) return false;
  m_queue.push_back(std::move(job));
  // Start a thread when every existing one is busy with a (possibly long) job.
  if (m_waiting < m_queue.size() && m_threads.size() < m_max_threads)
    m_threads.emplace_back([this] { work(); });
  m_job_ready.notify_one();
  return true;
}

bool WorkerPool::wait_idle_until(Clock::time_point deadline) {
  std::unique_lock lock(m_mutex);
  return m_idle.wait_until(lock, deadline, [this] { return m_queue.empty() && m_running == 0; });
}

std::size_t WorkerPool::pending() const {
  std::lock_guard lock(m_mutex);
  return m_queue.size() + m_running;
}

void WorkerPool::join() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    threads.swap(m_threads);
  }
  m_job_ready.notify_all();
  for (auto& thread : threads) thread.join();
}

void WorkerPool::work() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    ++m_waiting;
    m_job_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    --m_waiting;
    if (m_queue.empty()) return;  // stopping and drained
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    ++m_running;
    lock.unlock();
    try {
      job();
    } catch (...) {
      // Jobs report their own failures; an escaping exception must not kill the process.
    }
    job = nullptr;
    lock.lock();
    --m_running;
    if (m_queue.empty() && m_running == 0) m_idle.notify_all();
  }
}

}  // namespace mcpd::transports
