#pragma once
// The MCP server as a function: one incoming JSON-RPC message (request, notification,
// response, or batch) and a Session in; the reply, if any, out. Notifications and requests to
// the client during a call go through the Session's sender. No sockets, no threads of its
// own: transports decide where handle() runs (may_block() says which messages must not run
// on an I/O or reader thread).

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/descriptors/descriptor.hpp"
#include "core/handlers/runner.hpp"
#include "core/protocol/protocol_version.hpp"
#include "core/protocol/request_state.hpp"
#include "core/protocol/rpc.hpp"
#include "core/protocol/session.hpp"
#include "core/protocol/subscriptions.hpp"

namespace mcpd::core {

using json = nlohmann::json;

struct ServerInfo {
  std::string name = "mcpd";
  std::string version = MCPD_VERSION;
  std::string title;         // optional
  std::string instructions;  // optional; sent in the initialize and server/discover results
};

struct DispatcherOptions {
  ServerInfo info;
  std::size_t page_size = 100;  // tools/resources/prompts list page size
  int max_json_depth = 64;      // deeper messages are refused (-32600)
  // ttlMs of cacheable 2026-07-28 results (lists, discover, static resource reads): how long
  // a client may reuse them without asking again.
  std::int64_t cache_ttl_ms = 60000;
  // Seals the requestState of multi round-trip requests (at least 32 bytes). Replicas that
  // share it accept each other's state; empty: a random key for this process.
  std::string state_key;
};

// Observes finished tool calls (the metrics registry implements it).
struct CallObserver {
  virtual ~CallObserver() = default;
  virtual void tool_called(const std::string& tool, bool is_error, double seconds) = 0;
};

class Dispatcher {
 public:
  Dispatcher(std::shared_ptr<const Catalog> catalog, std::shared_ptr<HandlerRunner> runner,
             DispatcherOptions options = {});

  // Handles one parsed message. Returns the reply (a response, or an array for a batch), or
  // nothing for notifications and client responses. A batch is served only in a session that
  // negotiated 2025-03-26 or 2024-11-05 (2025-06-18 removed batches); any other batch, and an
  // empty one, gets one -32600 error with id null instead of an array. `correlation_id` is the
  // transport's (e.g. X-Correlation-ID); when empty, each call gets a fresh random one.
  std::optional<json> handle(const json& message, Session& session,
                             const std::string& correlation_id = {});
  // handle(), with the reply as the dispatcher built it: a successful response is not made
  // into a tree (Reply::write serializes it). What transports use.
  std::optional<Reply> reply(const json& message, Session& session,
                             const std::string& correlation_id = {});
  // The one parse of a message's text, for every transport: anything nested deeper than
  // max_json_depth is refused before its tree is built. Either the message, or the reply that
  // refuses it (id null: -32700 for malformed JSON, -32600 when nested too deeply).
  struct Parsed {
    std::optional<json> message;
    json refusal;
  };
  Parsed parse(std::string_view text) const;
  // Parses then handles; malformed JSON gets a -32700 reply with id null.
  std::optional<json> handle_text(std::string_view text, Session& session,
                                  const std::string& correlation_id = {});

  // True when handling `message` may take long (tools/call, resources/read, prompts/get,
  // a batch containing one): run it off the reader/I/O thread. Everything else is quick.
  static bool may_block(const json& message);
  // may_block() knowing the catalog: a tools/call of a tool with a static handler is quick
  // (substitution and schema checks), so transports answer it where it arrived, without a
  // hop to a worker thread and back.
  bool blocks(const json& message) const;

  void set_observer(std::shared_ptr<CallObserver> observer) { m_observer = std::move(observer); }
  const Catalog& catalog() const { return *m_catalog; }
  const DispatcherOptions& options() const { return m_options; }
  // The live subscriptions/listen requests (2026-07-28). Transports end a listen whose client
  // went away (end), end the listens of a session they drop (end_all) and close them all,
  // gracefully, when the server stops (close_all with server_info()).
  SubscriptionHub& subscriptions() { return m_subscriptions; }
  // {"name", "version"}: who answers, as a listen's closing result names it.
  json server_info() const;

 private:
  std::optional<Reply> handle_one(const json& message, Session& session,
                                  const std::string& correlation_id, bool in_batch);
  std::shared_ptr<const Catalog> m_catalog;
  std::shared_ptr<HandlerRunner> m_runner;
  DispatcherOptions m_options;
  std::shared_ptr<CallObserver> m_observer;
  SubscriptionHub m_subscriptions;
  RequestStateSealer m_sealer;
};

}  // namespace mcpd::core
