#pragma once
// HTTP sessions: a core::Session plus where its messages go. Streamable HTTP sessions
// (Mcp-Session-Id) own their request streams and the standalone GET stream; a legacy HTTP+SSE
// session (2024-11-05) sends everything on its one GET /sse stream. Every session is bound to
// the identity that created it: a request from anyone else gets 404, as if it did not exist.
//
// Where a message goes: the dispatcher names the request each message belongs to
// (related_id). A related message goes on that request's stream (progress, log lines,
// requests to the client, a listen's notifications); the request's own response there ends
// that stream. An unrelated one (list_changed, resources/updated) goes on the standalone GET
// stream. A message whose stream is gone is dropped.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/observability/metrics.hpp"
#include "core/protocol/session.hpp"
#include "core/protocol/subscriptions.hpp"
#include "transports/http/event_stream.hpp"
#include "transports/http/policy.hpp"

namespace mcpd::transports::http {

class HttpSession;

struct SessionOptions {
  std::size_t max_sessions = 10000;
  std::chrono::seconds idle_timeout{1800};  // no request and no open stream for this long
  std::chrono::seconds resume_window{30};   // a detached SSE stream waits this long
  unsigned retry_ms = 1000;
  // The dispatcher's live subscriptions/listen requests: a listen ends with its stream.
  core::SubscriptionHub* subscriptions = nullptr;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  enum class Kind { streamable, legacy, stateless };
  using Clock = std::chrono::steady_clock;

  // `identity` null: all tools (authentication off).
  static std::shared_ptr<HttpSession> create(Kind kind, std::string id, std::string owner,
                                             std::shared_ptr<const core::Identity> identity,
                                             const SessionOptions& options);
  // For create() only (std::make_shared: one allocation for the session and its count).
  struct Key {
   private:
    friend class HttpSession;
    Key() = default;
  };
  HttpSession(Key, Kind kind, std::string id, std::string owner, const SessionOptions& options);
  ~HttpSession();

  core::Session& core() { return *m_core; }
  const std::string& id() const { return m_id; }
  const std::string& owner() const { return m_owner; }
  Kind kind() const { return m_kind; }

  // --- Streamable HTTP ---
  // A stream for the requests of one POST body (their ids: request_ids), answered on
  // `exchange`.
  std::shared_ptr<EventStream> open_request_stream(RequestIds ids,
                                                   const std::shared_ptr<Exchange>& exchange,
                                                   const std::string& protocol_version);
  // Forgets a request stream once it has completed (its answer went out).
  void release(const std::shared_ptr<EventStream>& stream);
  // A request answered later (a subscriptions/listen): its stream stays open, and keeps this
  // session alive, until the client leaves or the answer comes.
  void keep_open(const std::shared_ptr<EventStream>& stream);
  // GET without Last-Event-ID. False when a standalone stream is already connected (409).
  bool open_standalone(const std::shared_ptr<Exchange>& exchange,
                       const std::string& protocol_version);
  // GET with Last-Event-ID.
  EventStream::Resume resume(const std::shared_ptr<Exchange>& exchange,
                             std::string_view last_event_id);

  // --- legacy HTTP+SSE ---
  void attach_legacy(const std::shared_ptr<Exchange>& exchange);

  // Ends the session: cancels its calls and closes its streams. Idempotent.
  void end();
  bool ended() const;
  void touch();
  // Expires detached streams; true when the session itself has been idle too long.
  bool sweep(Clock::time_point now);
  // Closes open streams that carry no pending answer (shutdown).
  void close_idle_streams();

 private:
  void route(const json& message, const json& related_id);
  void abandon(const std::shared_ptr<EventStream>& stream);
  void forget_locked(std::uint64_t number);
  void watch(const std::shared_ptr<EventStream>& stream, const std::shared_ptr<Exchange>& exchange);

  const Kind m_kind;
  const std::string m_id;
  const std::string m_owner;
  const SessionOptions m_options;
  std::optional<core::Session> m_core;  // made by create(), which the sender needs first

  mutable std::mutex m_mutex;
  bool m_ended = false;
  Clock::time_point m_last_activity;
  std::uint64_t m_next_stream = 1;
  // The request streams, in the order they opened, with the ids of the requests each answers.
  // A session has few open at a time: a search beats maps (and their nodes, and the ids
  // serialized as keys) for every request.
  struct RequestStream {
    std::shared_ptr<EventStream> stream;
    RequestIds request_ids;
  };
  // One inline: a stateless session opens one stream, and allocates no vector for it.
  boost::container::small_vector<RequestStream, 1> m_streams;
  RequestStream* find_stream_locked(std::uint64_t number);
  std::shared_ptr<EventStream> stream_for_locked(const json& request_id) const;
  std::shared_ptr<EventStream> m_standalone;
  std::shared_ptr<Exchange> m_legacy;
};

class SessionRegistry {
 public:
  SessionRegistry(SessionOptions options, core::Metrics* metrics);
  ~SessionRegistry();

  // A new session with a fresh id; nullptr when max_sessions is reached.
  std::shared_ptr<HttpSession> create(HttpSession::Kind kind, std::string owner,
                                      std::shared_ptr<const core::Identity> identity);
  // The live session `id` owned by `owner`, else nullptr.
  std::shared_ptr<HttpSession> find(const std::string& id, const std::string& owner);
  void remove(const std::string& id);
  // Ends idle sessions and expires detached streams, as of `now`.
  void sweep(HttpSession::Clock::time_point now = HttpSession::Clock::now());
  void close_idle_streams();
  void end_all();
  std::size_t size() const;
  const SessionOptions& options() const { return m_options; }

  // Stateless requests have a session of their own for one call; shutdown cancels them too.
  void track_ephemeral(const std::shared_ptr<HttpSession>& session);
  void cancel_ephemeral();

 private:
  const SessionOptions m_options;
  core::Metrics* m_metrics;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, std::shared_ptr<HttpSession>> m_sessions;
  std::vector<std::weak_ptr<HttpSession>> m_ephemeral;
};

}  // namespace mcpd::transports::http
