#pragma once
// Relays an exec child's requests to the client (output "mcp"). CallChannel::request blocks
// until the client answers, so requests run one at a time on a helper thread while the
// call's poll() loop keeps enforcing the deadline and cancellation; answers come back
// through an eventfd that the loop polls.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/protocol/call.hpp"
#include "core/handlers/exec_output.hpp"
#include "core/handlers/process.hpp"

namespace mcpd::core {

class RequestRelay {
 public:
  static constexpr std::size_t k_max_queued = 32;

  explicit RequestRelay(CallChannel& channel);
  ~RequestRelay();  // stop()
  RequestRelay(const RequestRelay&) = delete;
  RequestRelay& operator=(const RequestRelay&) = delete;

  // Readable when answers are ready; -1 if no eventfd could be created (submit then fails).
  int wake_fd() const noexcept { return m_wake.get(); }

  // Queues a request; false when the relay cannot take it (too many queued, no thread).
  bool submit(McpRequest request);
  // The answers ready so far, each one JSON line ({"id", "result"|"error"} + '\n').
  std::vector<std::string> take_answers();
  // Drops queued requests and waits for the one in flight: the channel returns when the
  // client answers, the call is cancelled or the session ends.
  void stop();

 private:
  void work();

  CallChannel& m_channel;
  UniqueFd m_wake;
  std::mutex m_mutex;
  std::condition_variable m_wakeup;
  std::deque<McpRequest> m_queue;
  std::vector<std::string> m_answers;
  bool m_stopping = false;
  std::thread m_thread;  // started by the first request
};

// The line answering the child's request `id` with the channel's reply.
std::string relay_answer_line(const json& id, const json& reply);

}  // namespace mcpd::core
