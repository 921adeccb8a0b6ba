#pragma once
// What a running call knows about its caller and what it may send back while it runs.

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::core {

using json = nlohmann::json;

// Who is calling. On stdio without MCPD_TOKEN, everything is empty and every tool is allowed.
struct Identity {
  std::optional<std::string> user;         // e-mail of the token's user
  std::optional<std::string> token_name;   // the token's name
  std::vector<std::string> allowed_tools;  // empty = all tools
  bool valid = true;                       // false: revoked/expired/disabled; tools refused
  std::string invalid_reason;              // for the refusal message, e.g. "token revoked"

  bool can_use_tool(const std::string& tool) const;
};

// Set once by whoever cancels (client notification, disconnect, shutdown); observed by the
// call. fd() is an eventfd that becomes readable when cancelled, for poll() loops. It is made
// on the first fd() call, since most calls never poll: a token cancelled before that hands out
// an fd that is already readable.
class CancelToken {
 public:
  CancelToken() = default;
  ~CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void cancel() noexcept;
  bool cancelled() const noexcept { return m_cancelled.load(std::memory_order_acquire); }
  // Thread-safe. -1 when no eventfd could be made (the caller then polls with a timeout).
  int fd() const noexcept;

 private:
  std::atomic<bool> m_cancelled{false};
  mutable std::atomic<int> m_fd{-1};
};

// The way back to the client during a call. Implemented by the dispatcher's session.
class CallChannel {
 public:
  virtual ~CallChannel() = default;
  // notifications/progress, only when the request carried a progressToken (else a no-op).
  virtual void progress(double progress, std::optional<double> total,
                        std::optional<std::string> message) = 0;
  // notifications/message, filtered by the session's logging/setLevel.
  virtual void log(const std::string& level, const std::optional<std::string>& logger,
                   const json& data) = 0;
  // A server-to-client request (sampling/createMessage, elicitation/create, roots/list).
  // Blocks until the client answers or the call is cancelled. Returns the client's reply as
  // {"result": ...} or {"error": {"code", "message"}}; never throws for protocol failures.
  virtual json request(const std::string& method, const json& params) = 0;

  // Multi round-trip requests: a 2026-07-28 caller has no server-initiated requests, so its
  // questions end the call instead, as an InputRequiredResult, and the client retries with
  // the answers. On such a channel (defers_requests()), ask() never blocks: it returns the
  // client's answer ({"result": ...}, or {"error": ...} for a question nobody can answer) when
  // the retry carried one for `key`, else records the question and returns nullopt, and the
  // handler must then stop; the dispatcher answers with every question recorded. Keys are
  // the caller's names for its questions (an exec child's request ids); a key asked twice in
  // one run names two questions. Other channels answer ask() with request().
  virtual bool defers_requests() const { return false; }
  virtual std::optional<json> ask(const std::string& key, const std::string& method,
                                  const json& params) {
    static_cast<void>(key);
    return request(method, params);
  }
};

struct CallContext {
  std::string name;  // tool, prompt or resource being served
  const Identity& identity;
  // The request's (Request::correlation_id, which outlives the call): a view, so that a call
  // copies no 32-character id. Handlers copy it when they keep it.
  std::string_view correlation_id;
  std::string protocol_version;
  const CancelToken& cancel;
  CallChannel& channel;
  // W3C trace context of a 2026-07-28 request (_meta traceparent/tracestate), passed on to
  // exec children (TRACEPARENT, TRACESTATE) and upstreams (headers); empty when none.
  std::string traceparent;
  std::string tracestate;
  // What the client declared it can answer (sampling, elicitation, roots), and for a
  // 2026-07-28 retry the answers it already gave (key -> result), for handlers to read.
  // Either may be null for "none".
  json client_capabilities;
  json input_responses;
};

}  // namespace mcpd::core
