#pragma once
// One stream of server messages within a Streamable HTTP session: the answer to one POST (a
// "request stream") or the session's GET stream ("standalone"). Thread-safe.
//
// A request stream starts as a plain JSON answer; the first message the call sends before its
// result (progress, a log message, a request to the client) turns it into text/event-stream:
// the head, a priming event (an id, a retry hint and empty data) and then one event per
// message, the final response last. Event ids are "<stream>-<seq>", unique within the session,
// and events are kept (bounded) until the stream completes on a live connection, so a client
// whose connection dropped can resume with GET + Last-Event-ID (spec: "Resumability and
// Redelivery"). A request stream whose connection drops while it is still plain JSON cannot be
// resumed: it is abandoned at once (its calls get cancelled); an SSE one is abandoned when no
// client resumed it within the resume window.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "transports/http/connection.hpp"

namespace mcpd::transports::http {

using json = nlohmann::json;

struct StreamOptions {
  std::string session_id;         // echoed as Mcp-Session-Id; empty when stateless
  std::string protocol_version;   // priming events from 2025-11-25 on
  bool resumable = true;          // keep events for Last-Event-ID (needs a session)
  unsigned retry_ms = 1000;       // the SSE retry hint of the priming event
  std::size_t max_events = 1024;  // replay buffer bounds
  std::size_t max_bytes = 4 * 1024 * 1024;
};

class EventStream {
 public:
  enum class Kind { request, standalone };
  enum class Resume { resumed, conflict, gone };
  using Clock = std::chrono::steady_clock;

  EventStream(Kind kind, std::uint64_t number, StreamOptions options, const void* owner);

  // A request stream's POST exchange.
  void attach_initial(const std::shared_ptr<Exchange>& exchange);
  // The standalone stream: opens `exchange` as text/event-stream at once. False when another
  // connection carries it (409).
  bool open(const std::shared_ptr<Exchange>& exchange);
  // One message to the client (switches a request stream to SSE).
  void push(const json& message);
  // A request stream's final reply (nullopt: nothing to answer, e.g. a cancelled request);
  // ends the stream. `status` is that of a plain JSON answer (a stream has said 200 already).
  void finish(std::optional<json> reply, unsigned status = 200);
  // Keeps `owner` alive as long as this stream is (a long-lived request's session).
  void anchor(std::shared_ptr<const void> owner);
  // Ends the stream now (session deleted, server shutting down). Events are dropped.
  void close();
  // Replays the events after `after_seq` on `exchange` and carries on there.
  Resume resume(const std::shared_ptr<Exchange>& exchange, std::uint64_t after_seq);
  // The connection of `exchange` went away. Returns true when the stream is abandoned now
  // (a request stream that cannot be resumed).
  bool connection_lost(const Exchange* exchange);
  // Abandoned when detached for longer than `window` and not complete.
  bool expired(Clock::time_point now, Clock::duration window) const;

  bool completed() const;
  bool attached() const;
  Kind kind() const { return m_kind; }
  std::uint64_t number() const { return m_number; }
  const void* owner() const { return m_owner; }

  // "<stream>-<seq>" <-> parts.
  static std::string event_id(std::uint64_t stream, std::uint64_t seq);
  static std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_event_id(std::string_view id);

 private:
  Response stream_head() const;
  void switch_to_sse_locked();
  void emit_locked(std::string text, std::uint64_t seq);
  std::string next_event_locked(const json& message, std::uint64_t& seq);

  const Kind m_kind;
  const std::uint64_t m_number;
  const StreamOptions m_options;
  const void* const m_owner;

  mutable std::mutex m_mutex;
  std::shared_ptr<Exchange> m_exchange;  // the connection carrying the stream, if any
  bool m_sse = false;                    // head sent (request streams start as JSON)
  bool m_finished = false;               // the final reply is known
  bool m_completed = false;              // nothing more to do: remove
  std::uint64_t m_next_seq = 0;
  // For replay; made on the first event kept (a std::deque allocates even when empty, and most
  // streams never keep one).
  std::optional<std::deque<std::pair<std::uint64_t, std::string>>> m_events;
  std::size_t m_event_bytes = 0;
  std::optional<Clock::time_point> m_detached_at;
  std::shared_ptr<const void> m_anchor;
};

}  // namespace mcpd::transports::http
