#pragma once
// `subscriptions/listen` (protocol 2026-07-28): the live listens and the change notifications
// each opted in to. A listen is a long-lived request: it belongs to the Session it arrived on,
// is known by its JSON-RPC id, and that id is the subscriptionId stamped into the `_meta` of
// every message delivered on it. Opening one sends the acknowledgement first; it ends when the
// client cancels it or goes away (end: nothing more is sent), or gracefully when the server
// stops (close: its final result). A listen holds no thread: the hub only keeps its filter and
// the sink its messages go through. Thread-safe.

#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpd::core {

using json = nlohmann::json;

// The notification types a listen asks for (the schema's SubscriptionFilter).
struct SubscriptionFilter {
  bool tools_list_changed = false;         // notifications/tools/list_changed
  bool prompts_list_changed = false;       // notifications/prompts/list_changed
  bool resources_list_changed = false;     // notifications/resources/list_changed
  std::vector<std::string> resource_uris;  // notifications/resources/updated for these URIs

  // A listen's `notifications` parameter; nullopt when it is not a SubscriptionFilter.
  static std::optional<SubscriptionFilter> from_json(const json& value);
  // Only the types asked for (what the acknowledgement reports).
  json to_json() const;
  bool empty() const;
};

// What this server can notify about (its advertised capabilities).
struct SubscriptionSupport {
  bool tools_list_changed = false;
  bool prompts_list_changed = false;
  bool resources_list_changed = false;
  bool resource_updates = false;  // resources.subscribe
};

// The subset of `requested` the server honours.
SubscriptionFilter honored_filter(const SubscriptionFilter& requested,
                                  const SubscriptionSupport& support);

class SubscriptionHub {
 public:
  // Sends one message of a listen to its client. Called with the hub's lock held, so that
  // nothing reaches a listen after end() returned: it must not block for long. (The lock is
  // recursive: a sink whose final message lets its owner go may end that owner's listens.)
  using Sink = std::function<void(const json& message)>;
  enum class Opened { listening, full, duplicate };

  explicit SubscriptionHub(std::size_t max_listens = 1024);

  // Registers listen `id` of `owner` (the Session it arrived on) and sends its
  // acknowledgement through `sink`.
  Opened open(const void* owner, const json& id, SubscriptionFilter filter, Sink sink);
  bool live(const void* owner, const json& id) const;
  // The client cancelled the listen or went away. False when it was not live.
  bool end(const void* owner, const json& id);
  // `owner` is going away: its listens end silently.
  void end_all(const void* owner);
  // Graceful ends: the listens of `owner` (close) or all of them (close_all) get their final
  // result, carrying `server_info`, and are gone.
  void close(const void* owner, const json& server_info);
  void close_all(const json& server_info);

  // A change: every listen that opted in to it is told.
  void tools_list_changed();
  void prompts_list_changed();
  void resources_list_changed();
  void resource_updated(const std::string& uri);

  std::size_t size() const;

  // The messages of a listen.
  static json acknowledgement(const json& id, const SubscriptionFilter& filter);
  static json closing_result(const json& id, const json& server_info);

 private:
  struct Listen {
    json id;
    SubscriptionFilter filter;
    Sink sink;
  };
  using Key = std::pair<const void*, std::string>;  // owner, id.dump()

  void publish(const std::function<bool(const SubscriptionFilter&)>& wants,
               const std::string& method, const json& params);
  void close_if(const std::function<bool(const Key&)>& match, const json& server_info);

  const std::size_t m_max_listens;
  mutable std::recursive_mutex m_mutex;
  std::map<Key, Listen> m_listens;
};

}  // namespace mcpd::core
