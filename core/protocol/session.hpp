#pragma once
// One client's protocol state: lifecycle, negotiated version, client capabilities, log level,
// subscriptions, in-flight requests (for cancellation) and server-to-client requests waiting
// for answers. Thread-safe: the transport's reader and worker threads share it.

#include <boost/container/flat_map.hpp>
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/protocol/call.hpp"

namespace mcpd::core {

using json = nlohmann::json;

// RFC 5424 level names as MCP spells them ("debug" ... "emergency").
bool is_log_level(std::string_view level);
// True when `level` is a known level at or above `minimum`.
bool log_level_at_least(std::string_view level, std::string_view minimum);

class Session {
 public:
  // Writes one complete JSON-RPC message to the client. Must be thread-safe. `related_id` is
  // the id of the client request the message belongs to (a progress or log notification, a
  // request to the client made while serving it), or null when it belongs to none
  // (list_changed, resources/updated): transports with one stream per request route by it.
  using Sender = std::function<void(const json& message, const json& related_id)>;

  explicit Session(Sender sender, Identity identity = {});
  // An identity shared with whoever authenticated it (the HTTP auth cache); null = all tools.
  Session(Sender sender, std::shared_ptr<const Identity> identity);
  // For transports with a single stream (stdio, tests): every message goes to `sender`.
  explicit Session(std::function<void(const json& message)> sender, Identity identity = {});
  ~Session();

  // --- identity (may change: stdio re-validates MCPD_TOKEN periodically) ---
  std::shared_ptr<const Identity> identity() const;
  void set_identity(Identity identity);
  void set_identity(std::shared_ptr<const Identity> identity);

  // --- lifecycle ---
  bool initialized() const;  // after a successful initialize
  void set_initialized(std::string protocol_version, json client_capabilities, json client_info);
  // For transports that skip the handshake (stateless HTTP): treat as initialized.
  void assume_initialized(std::string protocol_version);
  std::string protocol_version() const;
  // What the client declared at initialize (an object); null before, or when the transport
  // skipped the handshake: nothing declared.
  json client_capabilities() const;
  json client_info() const;

  // --- logging/setLevel: RFC 5424 names; messages below the level are dropped ---
  void set_log_level(const std::string& level);
  bool log_enabled(const std::string& level) const;

  // --- resources/subscribe ---
  void subscribe(const std::string& uri);
  void unsubscribe(const std::string& uri);
  bool subscribed(const std::string& uri) const;
  std::set<std::string> subscriptions() const;

  // --- in-flight client requests ---
  // Registers request `id`; the returned token is cancelled by cancel_request(id) or
  // cancel_all(). Returns nullptr if a request with that id is already in flight.
  std::shared_ptr<CancelToken> begin_request(const json& id);
  void end_request(const json& id);
  void cancel_request(const json& id);
  void cancel_all();
  std::size_t in_flight() const;

  // --- server-to-client traffic ---
  void notify(const std::string& method, json params, const json& related_id = nullptr);
  // Sends a request and blocks until the client's response arrives, `cancel` fires or
  // `deadline` passes. Returns {"result": ...} or {"error": {...}} (-32800 when cancelled,
  // -32001 on the deadline; the client is sent notifications/cancelled for both).
  json send_request(
      const std::string& method, json params, const CancelToken& cancel,
      std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
      const json& related_id = nullptr);
  // Routes a client response to the waiting send_request. False if nobody waits for its id.
  bool deliver_response(const json& message);

  void send(const json& message, const json& related_id = nullptr) const {
    m_sender(message, related_id);
  }

 private:
  struct Pending;
  Sender m_sender;
  mutable std::mutex m_mutex;
  std::shared_ptr<const Identity> m_identity;
  bool m_initialized = false;
  std::string m_protocol_version;
  // Null until initialize sets them (capabilities read as null, client info as {}): a
  // stateless request's session, made and dropped per request, never allocates them.
  json m_client_capabilities;
  json m_client_info;
  int m_log_level;  // index into the RFC 5424 list; messages at or above are sent
  std::set<std::string> m_subscriptions;
  // Sorted, with room for one inline: a stateless request's session tracks its one call
  // without a tree node.
  boost::container::flat_map<
      std::string, std::shared_ptr<CancelToken>, std::less<>,
      boost::container::small_vector<std::pair<std::string, std::shared_ptr<CancelToken>>, 1>>
      m_in_flight;
  static constexpr std::size_t k_max_early_cancels = 64;
  // Ids cancelled before they started (a vector: a deque allocates even when empty, and every
  // stateless HTTP request has a session of its own).
  std::vector<std::string> m_early_cancels;
  std::map<std::string, std::shared_ptr<Pending>> m_pending;  // key: id.dump()
  std::uint64_t m_next_request_id = 1;
};

}  // namespace mcpd::core
