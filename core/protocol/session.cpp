#include "core/protocol/session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/protocol/rpc.hpp"

namespace mcpd::core {

namespace {

// RFC 5424 severities in increasing order, as MCP's LoggingLevel spells them.
constexpr std::array<std::string_view, 8> k_log_levels{"debug", "info",     "notice", "warning",
                                                       "error", "critical", "alert",  "emergency"};

int log_level_index(std::string_view level) {
  const auto it = std::find(k_log_levels.begin(), k_log_levels.end(), level);
  return it == k_log_levels.end() ? -1 : static_cast<int>(it - k_log_levels.begin());
}

// The sender for a transport that routes nothing: one stream carries everything.
Session::Sender unrouted(std::function<void(const json&)> sender) {
  return [sender = std::move(sender)](const json& message, const json&) { sender(message); };
}

// A cancelled wait polls its token this often, in case whoever cancelled it could not wake us
// (a token cancelled directly rather than through cancel_request/cancel_all).
constexpr auto k_cancel_poll = std::chrono::milliseconds(100);

// The TypeScript SDK's RequestTimeout code, for client requests that outlive their deadline.
constexpr int k_request_timeout = -32001;

json error_reply(int code, std::string message) {
  return json{{"error", {{"code", code}, {"message", std::move(message)}}}};
}

// The key of a client request id in m_in_flight and m_early_cancels: injective like id.dump(),
// without serializing (a dump sets up an output adapter on the heap for every call).
// Strings get an 's' before them; integers print as dump() prints them; anything else (never a
// valid id) is its dump, which starts with neither.
std::string request_key(const json& id) {
  if (id.is_string()) return "s" + id.get_ref<const std::string&>();
  if (id.is_number_unsigned()) return std::to_string(id.get<std::uint64_t>());
  if (id.is_number_integer()) return std::to_string(id.get<std::int64_t>());
  return id.dump();
}

json cancelled_reply() {
  return error_reply(rpc_code::k_request_cancelled, "cancelled");
}

}  // namespace

struct Session::Pending {
  std::condition_variable cv;
  std::optional<json> reply;  // {"result": ...} or {"error": ...}
};

// Until the client calls logging/setLevel every message is sent, as the reference SDKs do.
bool is_log_level(std::string_view level) {
  return log_level_index(level) >= 0;
}

bool log_level_at_least(std::string_view level, std::string_view minimum) {
  const int index = log_level_index(level);
  return index >= 0 && index >= log_level_index(minimum);
}

Session::Session(std::function<void(const json& message)> sender, Identity identity)
    : Session(unrouted(std::move(sender)), std::move(identity)) {}

Session::Session(Sender sender, Identity identity)
    : Session(std::move(sender), std::make_shared<const Identity>(std::move(identity))) {}

Session::Session(Sender sender, std::shared_ptr<const Identity> identity)
    : m_sender(std::move(sender)),
      m_identity(identity ? std::move(identity) : std::make_shared<const Identity>()),
      m_log_level(0) {}

Session::~Session() {
  cancel_all();
}

std::shared_ptr<const Identity> Session::identity() const {
  std::lock_guard lock(m_mutex);
  return m_identity;
}

void Session::set_identity(Identity identity) {
  set_identity(std::make_shared<const Identity>(std::move(identity)));
}

void Session::set_identity(std::shared_ptr<const Identity> identity) {
  if (!identity) identity = std::make_shared<const Identity>();
  std::lock_guard lock(m_mutex);
  m_identity = std::move(identity);
}

bool Session::initialized() const {
  std::lock_guard lock(m_mutex);
  return m_initialized;
}

void Session::set_initialized(std::string protocol_version, json client_capabilities,
                              json client_info) {
  std::lock_guard lock(m_mutex);
  m_initialized = true;
  m_protocol_version = std::move(protocol_version);
  m_client_capabilities =
      client_capabilities.is_object() ? std::move(client_capabilities) : json::object();
  m_client_info = client_info.is_object() ? std::move(client_info) : json::object();
}

void Session::assume_initialized(std::string protocol_version) {
  std::lock_guard lock(m_mutex);
  m_initialized = true;
  m_protocol_version = std::move(protocol_version);
}

std::string Session::protocol_version() const {
  std::lock_guard lock(m_mutex);
  return m_protocol_version;
}

json Session::client_capabilities() const {
  std::lock_guard lock(m_mutex);
  return m_client_capabilities;
}

json Session::client_info() const {
  std::lock_guard lock(m_mutex);
  return m_client_info.is_null() ? json::object() : m_client_info;
}

void Session::set_log_level(const std::string& level) {
  const int index = log_level_index(level);
  if (index < 0) return;  // the dispatcher refuses unknown names before we get here
  std::lock_guard lock(m_mutex);
  m_log_level = index;
}

bool Session::log_enabled(const std::string& level) const {
  const int index = log_level_index(level);
  if (index < 0) return false;
  std::lock_guard lock(m_mutex);
  return index >= m_log_level;
}

void Session::subscribe(const std::string& uri) {
  std::lock_guard lock(m_mutex);
  m_subscriptions.insert(uri);
}

void Session::unsubscribe(const std::string& uri) {
  std::lock_guard lock(m_mutex);
  m_subscriptions.erase(uri);
}

bool Session::subscribed(const std::string& uri) const {
  std::lock_guard lock(m_mutex);
  return m_subscriptions.count(uri) != 0;
}

std::set<std::string> Session::subscriptions() const {
  std::lock_guard lock(m_mutex);
  return m_subscriptions;
}

std::shared_ptr<CancelToken> Session::begin_request(const json& id) {
  auto token = std::make_shared<CancelToken>();
  std::lock_guard lock(m_mutex);
  const auto [it, inserted] = m_in_flight.emplace(request_key(id), token);
  if (!inserted) return nullptr;
  // The cancellation may have overtaken the request (it was queued for a worker).
  const auto early = std::find(m_early_cancels.begin(), m_early_cancels.end(), it->first);
  if (early != m_early_cancels.end()) {
    m_early_cancels.erase(early);
    token->cancel();
  }
  return token;
}

void Session::end_request(const json& id) {
  std::lock_guard lock(m_mutex);
  m_in_flight.erase(request_key(id));
}

void Session::cancel_request(const json& id) {
  std::lock_guard lock(m_mutex);
  const auto it = m_in_flight.find(request_key(id));
  if (it == m_in_flight.end()) {
    // Not started yet (or already finished): remember a few so a queued request is born
    // cancelled. Request ids are unique within a session, so a stale entry is harmless.
    if (m_early_cancels.size() == k_max_early_cancels) m_early_cancels.erase(m_early_cancels.begin());
    m_early_cancels.push_back(request_key(id));
    return;
  }
  it->second->cancel();
  // The call may be blocked in send_request; wake every waiter so it notices at once.
  for (auto& [key, pending] : m_pending) pending->cv.notify_all();
}

void Session::cancel_all() {
  std::lock_guard lock(m_mutex);
  for (auto& [key, token] : m_in_flight) token->cancel();
  for (auto& [key, pending] : m_pending) pending->cv.notify_all();
}

std::size_t Session::in_flight() const {
  std::lock_guard lock(m_mutex);
  return m_in_flight.size();
}

void Session::notify(const std::string& method, json params, const json& related_id) {
  try {
    m_sender(make_notification(method, std::move(params)), related_id);
  } catch (const std::exception& e) {
    // The client went away mid-call; the transport cancels the session's calls.
    spdlog::debug("dropping {} notification: {}", method, e.what());
  }
}

json Session::send_request(const std::string& method, json params, const CancelToken& cancel,
                           std::chrono::steady_clock::time_point deadline, const json& related_id) {
  if (cancel.cancelled()) return cancelled_reply();
  auto pending = std::make_shared<Pending>();
  json id;
  {
    std::lock_guard lock(m_mutex);
    id = "mcpd-" + std::to_string(m_next_request_id++);
    m_pending.emplace(id.dump(), pending);
  }
  const std::string key = id.dump();

  try {
    m_sender(make_request(id, method, std::move(params)), related_id);
  } catch (const std::exception& e) {
    spdlog::warn("could not send {} request to the client: {}", method, e.what());
    std::lock_guard lock(m_mutex);
    m_pending.erase(key);
    return error_reply(rpc_code::k_internal_error, "client unreachable");
  }

  std::unique_lock lock(m_mutex);
  bool timed_out = false;
  while (!pending->reply && !cancel.cancelled() && !timed_out) {
    const auto now = std::chrono::steady_clock::now();
    timed_out = now >= deadline;
    if (!timed_out)
      pending->cv.wait_for(
          lock, std::min<std::chrono::steady_clock::duration>(k_cancel_poll, deadline - now));
  }
  m_pending.erase(key);
  if (pending->reply) return std::move(*pending->reply);
  lock.unlock();

  // Tell the client we no longer want the answer (MCP cancellation works both ways).
  const char* reason = timed_out ? "request timed out" : "request cancelled";
  notify("notifications/cancelled", json{{"requestId", id}, {"reason", reason}}, related_id);
  return timed_out ? error_reply(k_request_timeout, "request timed out") : cancelled_reply();
}

bool Session::deliver_response(const json& message) {
  if (!message.is_object() || !message.contains("id")) return false;
  json reply;
  if (message.contains("result")) {
    reply = json{{"result", message["result"]}};
  } else if (message.contains("error") && message["error"].is_object()) {
    reply = json{{"error", message["error"]}};
  } else {
    reply =
        json{{"error", {{"code", rpc_code::k_invalid_request}, {"message", "malformed response"}}}};
  }

  std::lock_guard lock(m_mutex);
  const auto it = m_pending.find(message["id"].dump());
  if (it == m_pending.end()) return false;
  it->second->reply = std::move(reply);
  it->second->cv.notify_all();
  return true;
}

}  // namespace mcpd::core
