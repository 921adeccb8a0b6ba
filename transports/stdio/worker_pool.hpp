#pragma once
// A small bounded thread pool for requests that may block (tool calls). Threads are started
// on demand up to a maximum, so an idle stdio server costs one thread; jobs beyond the queue
// limit are refused rather than blocking the reader. No detach: join() waits for every job.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mcpd::transports {

class WorkerPool {
 public:
  using Job = std::function<void()>;
  using Clock = std::chrono::steady_clock;

  WorkerPool(std::size_t max_threads, std::size_t max_queued);
  ~WorkerPool();  // join()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`. False when the queue is full or the pool is joining.
  bool submit(Job job);
  // Waits until no job is queued or running, or until `deadline`. True when idle.
  bool wait_idle_until(Clock::time_point deadline);
  // Jobs queued or running right now.
  std::size_t pending() const;
  // Runs the remaining jobs, then stops and joins every thread. Idempotent.
  void join();

 private:
  void work();

  const std::size_t m_max_threads;
  const std::size_t m_max_queued;
  mutable std::mutex m_mutex;
  std::condition_variable m_job_ready;
  std::condition_variable m_idle;
  std::deque<Job> m_queue;
  std::vector<std::thread> m_threads;
  std::size_t m_waiting = 0;  // threads blocked waiting for a job
  std::size_t m_running = 0;  // jobs being executed
  bool m_stopping = false;
};

}  // namespace mcpd::transports
