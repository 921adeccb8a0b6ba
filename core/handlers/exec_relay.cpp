#include "core/handlers/exec_relay.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <exception>
#include <utility>

namespace mcpd::core {

RequestRelay::RequestRelay(CallChannel& channel)
    : m_channel(channel), m_wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

RequestRelay::~RequestRelay() {
  stop();
}

bool RequestRelay::submit(McpRequest request) {
  std::lock_guard lock(m_mutex);
  if (m_stopping || !m_wake.valid() || m_queue.size() >= k_max_queued) return false;
  if (!m_thread.joinable()) {
    try {
      m_thread = std::thread([this] { work(); });
    } catch (const std::exception& e) {
      spdlog::error("exec: cannot start the request relay: {}", e.what());
      return false;
    }
  }
  m_queue.push_back(std::move(request));
  m_wakeup.notify_one();
  return true;
}

std::vector<std::string> RequestRelay::take_answers() {
  std::uint64_t count = 0;
  if (m_wake.valid()) {
    [[maybe_unused]] auto ignored = ::read(m_wake.get(), &count, sizeof count);
  }
  std::lock_guard lock(m_mutex);
  return std::exchange(m_answers, {});
}

void RequestRelay::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_queue.clear();
  }
  m_wakeup.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void RequestRelay::work() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wakeup.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    if (m_stopping) return;
    McpRequest request = std::move(m_queue.front());
    m_queue.pop_front();
    lock.unlock();

    json reply;
    try {
      reply = m_channel.request(request.method, request.params);
    } catch (const std::exception& e) {
      spdlog::error("exec: relaying {} failed: {}", request.method, e.what());
      reply = {{"error", {{"code", -32603}, {"message", "request failed"}}}};
    } catch (...) {
      reply = {{"error", {{"code", -32603}, {"message", "request failed"}}}};
    }
    std::string line = relay_answer_line(request.id, reply);

    lock.lock();
    m_answers.push_back(std::move(line));
    const std::uint64_t one = 1;
    [[maybe_unused]] auto ignored = ::write(m_wake.get(), &one, sizeof one);
  }
}

std::string relay_answer_line(const json& id, const json& reply) {
  json answer{{"id", id}};
  if (reply.is_object() && reply.contains("result")) {
    answer["result"] = reply["result"];
  } else if (reply.is_object() && reply.contains("error")) {
    answer["error"] = reply["error"];
  } else {
    answer["error"] = {{"code", -32603}, {"message", "no answer from the client"}};
  }
  return answer.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace mcpd::core
