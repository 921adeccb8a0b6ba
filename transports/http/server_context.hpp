#pragma once
// What the request handlers share (internal to transports/http): settings, the dispatcher, the
// sessions, the auth gate, the thread pools and the count of calls in flight that shutdown
// waits for.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/observability/metrics.hpp"
#include "core/protocol/dispatcher.hpp"
#include "transports/http/auth_gate.hpp"
#include "transports/http/bounded_pool.hpp"
#include "transports/http/connection.hpp"
#include "transports/http/http_server.hpp"
#include "transports/http/sessions.hpp"

namespace mcpd::transports::http {

struct ServerContext {
  const HttpSettings& settings;
  core::Dispatcher& dispatcher;
  core::Metrics* metrics;
  const std::vector<ReadinessCheck>& readiness;
  SessionRegistry& sessions;
  AuthGate& auth;
  BoundedPool& workers;    // tool calls and other blocking requests
  BoundedPool& auxiliary;  // auth lookups, readiness probes

  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> in_flight{0};
  std::function<void()> on_drained = nullptr;  // called (from a worker) when in_flight drops to 0

  // Runs `job` on the worker pool in the place `slot` reserved (workers.reserve()), counted as
  // in flight until it returns.
  template <class F>
  void run_blocking(BoundedPool::Slot slot, F&& job) {
    ++in_flight;
    workers.post(std::move(slot), [this, job = std::forward<F>(job)]() mutable {
      job();
      if (--in_flight == 0 && stopping && on_drained) on_drained();
    });
  }
};

// Dispatcher::reply, guarded: a throwing dispatcher still answers every request (-32603), and
// JSON-RPC errors in the reply count in mcp_errors_total (dispatch.cpp).
std::optional<core::Reply> dispatch_message(ServerContext& ctx, const json& body,
                                            core::Session& session,
                                            const std::string& correlation_id);

// The HTTP status of a plain JSON `reply` to `body`: 400 for a batch the dispatcher refused as
// a whole (one error instead of an array of replies) and, for a 2026-07-28 request, whatever its
// error calls for (modern_reply_status); else 200 (dispatch.cpp).
unsigned reply_status(const json& body, const core::Reply& reply, bool modern);

// The entry point of every request (router.cpp).
void handle_request(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                    const std::shared_ptr<IncomingRequest>& request);

// Streamable HTTP: POST/GET/DELETE /mcp (streamable.cpp).
void serve_mcp(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
               const std::shared_ptr<IncomingRequest>& request, Caller caller,
               const std::string& correlation_id);
// Legacy HTTP+SSE: GET /sse and POST /messages (legacy_sse.cpp).
void serve_legacy_stream(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                         const std::shared_ptr<IncomingRequest>& request, Caller caller);
void serve_legacy_message(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                          const std::shared_ptr<IncomingRequest>& request, Caller caller,
                          const std::string& correlation_id);
// Health, readiness and metrics (probes.cpp).
void serve_probe(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                 const std::shared_ptr<IncomingRequest>& request, Route route);

// The request body as a string_view, and a header's value.
inline std::string_view body_of(const IncomingRequest& request) {
  return request.message.body();
}

}  // namespace mcpd::transports::http
