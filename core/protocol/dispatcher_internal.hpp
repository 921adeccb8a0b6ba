#pragma once
// Private to the dispatcher: the state one request is served with, parameter helpers,
// pagination, and the CallChannel that turns handler output into messages to the client.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/descriptors/descriptor.hpp"
#include "core/handlers/runner.hpp"
#include "core/protocol/call.hpp"
#include "core/protocol/dispatcher.hpp"
#include "core/protocol/request_meta.hpp"
#include "core/protocol/request_state.hpp"
#include "core/protocol/rpc.hpp"
#include "core/protocol/session.hpp"

namespace mcpd::core::detail {

// Everything a method implementation needs. Methods return the JSON-RPC result, std::nullopt
// when no reply must be sent (a cancelled request), or throw RpcError.
struct Request {
  const Catalog& catalog;
  HandlerRunner& runner;
  const DispatcherOptions& options;
  CallObserver* observer;
  Session& session;
  const json& id;
  const json& params;  // always an object (an empty one when the message had none)
  const std::string& correlation_id;
  // The per-request protocol fields of a 2026-07-28 request; nullptr for a legacy request,
  // which is served with what its session negotiated.
  const RequestMeta* meta = nullptr;
  SubscriptionHub* subscriptions = nullptr;
  const RequestStateSealer* sealer = nullptr;  // requestState of multi round-trip requests
};

// The revision a request is served with: its own (modern) or its session's (legacy).
std::string request_version(const Request& request);
bool is_modern(const Request& request);

// What a 2026-07-28 cacheable result may be cached for: "private" whenever the caller is
// authenticated (the answer may depend on its token), "public" otherwise.
const char* cache_scope(const Request& request);

using Result = std::optional<json>;

// --- methods, by feature ---
Result tools_list(const Request& request);
Result tools_call(const Request& request);
Result resources_list(const Request& request);
Result resource_templates_list(const Request& request);
Result resources_read(const Request& request);
Result resources_subscribe(const Request& request, bool subscribe);
Result prompts_list(const Request& request);
Result prompts_get(const Request& request);
Result completion_complete(const Request& request);
Result subscriptions_listen(const Request& request);

// --- parameters ---
RpcError invalid_params(std::string message);
// params[key] as a string; throws -32602 naming `key` when absent or not a string.
const std::string& require_string(const json& params, const char* key);
// params[key] as an object; absent or null gives `{}`, another type throws -32602.
json optional_object(const json& params, const char* key);
// At most `max_bytes` of `text`, cut on a UTF-8 character boundary (for echoing client input).
std::string clip(std::string_view text, std::size_t max_bytes = 128);

// --- pagination: opaque cursors that encode the list they belong to and an offset ---
struct Page {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::optional<std::string> next_cursor;
};
// Pages over `total` items for `params.cursor`; throws -32602 for a cursor we did not issue.
Page paginate(const Request& request, std::string_view list, std::size_t total);
// Adds "nextCursor" to `result` when there is another page.
void add_next_cursor(json& result, const Page& page);

// --- protocol versions ("YYYY-MM-DD" strings order like the dates they are) ---
inline bool version_at_least(const std::string& negotiated, std::string_view version) {
  return negotiated.empty() || negotiated >= version;
}

// --- encodings and ids ---
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// --- multi round-trip requests (2026-07-28) ---
// What a requestState is bound to: the caller, the method, the name (tool, prompt or resource
// URI) and the arguments of the request.
struct StateSubject {
  const char* method;
  const std::string& name;
  const json& arguments;
};
StateBinding state_binding(const Request& request, const StateSubject& subject);
// The answers a 2026-07-28 request carries: those sealed in its requestState (checked against
// the subject; -32602 when refused) and its inputResponses (an object of objects, else
// -32602). An answer sealed in the state is not replaced by the retry's. Null for a legacy
// request and for one that carries neither.
json retry_answers(const Request& request, const StateSubject& subject);

// --- the channel back to the client during one call ---
// Every message it sends names the request it belongs to (`related_id`), so transports put
// it on that request's stream. For a 2026-07-28 request the log level is the request's own
// (no level: no log messages at all), and questions to the client are asked by round trip:
// `answers` are the retry's, and finish() turns the open questions into the result.
class SessionChannel final : public CallChannel {
 public:
  SessionChannel(const Request& request, const CancelToken& cancel,
                 std::chrono::steady_clock::time_point deadline, json answers = {});

  void progress(double progress, std::optional<double> total,
                std::optional<std::string> message) override;
  void log(const std::string& level, const std::optional<std::string>& logger,
           const json& data) override;
  json request(const std::string& method, const json& params) override;
  bool defers_requests() const override { return m_meta != nullptr; }
  std::optional<json> ask(const std::string& key, const std::string& method,
                          const json& params) override;

  // After the handler returned: nullopt when it completed without open questions; else the
  // InputRequiredResult asking them, with a requestState sealing the answers used so far.
  // Throws -32021 when a question needs a capability the client did not declare.
  std::optional<json> finish(const Request& request, const StateSubject& subject) const;

 private:
  Session& m_session;
  const json& m_related_id;
  const RequestMeta* m_meta;
  std::optional<json> m_progress_token;
  const CancelToken& m_cancel;
  std::chrono::steady_clock::time_point m_deadline;
  mutable std::mutex m_mutex;  // a handler may report and ask from several threads
  std::optional<double> m_last_progress;
  // Null until used, so that a call that asks nothing allocates nothing for them.
  json m_answers;                      // key -> the client's result, from the retry
  json m_used;                         // the answers handed to the handler in this run
  json m_questions;                    // key -> {"method", "params"}, not yet answered
  json m_missing;                      // capability -> {}: asked for but not declared
  std::map<std::string, int> m_asked;  // how often each key was asked in this run
};

// Registers `id` as in flight for the lifetime of the guard (throws -32600 on a duplicate).
class InFlight {
 public:
  InFlight(Session& session, const json& id);
  ~InFlight();
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  const CancelToken& token() const { return *m_token; }

 private:
  Session& m_session;
  const json& m_id;
  std::shared_ptr<CancelToken> m_token;
};

// The context a handler runs with for `request`: who calls, the correlation id, the revision
// and (2026-07-28) the trace context to pass on.
// `answers`: those of a 2026-07-28 retry (retry_answers), handed to the handler.
CallContext call_context(const Request& request, std::string name, const Identity& identity,
                         const CancelToken& cancel, CallChannel& channel, json answers = {});

// params._meta.progressToken when it is a string or an integer.
std::optional<json> progress_token(const json& params);

// How long a handler's requests to the client may wait for an answer: an exec child is killed
// at its timeout, and whoever relays its request must not wait for an answer forever.
std::chrono::steady_clock::time_point request_deadline(const HandlerSpec& handler);

}  // namespace mcpd::core::detail
