// The HTTP+SSE transport of protocol 2024-11-05, kept for older clients: GET /sse opens the
// session's event stream, whose first event ("endpoint") names the URL to POST messages to;
// every answer and notification then arrives on that stream, and each POST gets 202 at once.
// The session ends when its stream closes. Sessions live in this process: behind a load
// balancer, legacy clients need sticky routing (Streamable HTTP does not).

#include <spdlog/spdlog.h>

#include "core/observability/log.hpp"
#include "core/protocol/rpc.hpp"
#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

namespace {

std::string_view to_view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

void serve_legacy_stream(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                         const std::shared_ptr<IncomingRequest>& request, Caller caller) {
  if (ctx.stopping) {
    exchange->respond(jsonrpc_error(503, -32000, "server shutting down"));
    return;
  }
  auto owner = caller.owner();  // before the identity is moved: it is made from it
  auto session =
      ctx.sessions.create(HttpSession::Kind::legacy, std::move(owner), std::move(caller.identity));
  if (!session) {
    exchange->respond(jsonrpc_error(503, -32000, "too many sessions; retry later"));
    return;
  }
  Response head;
  head.status = 200;
  head.content_type = "text/event-stream";
  if (!exchange->begin_stream(std::move(head))) {
    ctx.sessions.remove(session->id());
    return;
  }
  session->attach_legacy(exchange);

  // Relative to the stream's URL, so it also works under a reverse proxy's path prefix:
  // /mcp/sse -> /mcp/messages, /sse -> /messages, /mcp/sse/ -> /mcp/messages.
  const std::string_view path = split_target(to_view(request->message.target())).path;
  const std::string endpoint = std::string(path.size() > 1 && path.back() == '/' ? "../" : "") +
                               "messages?session_id=" + session->id();
  exchange->send(sse_event({}, endpoint, "endpoint"));
  spdlog::info("legacy SSE session {}… opened", session->id().substr(0, 8));
}

void serve_legacy_message(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                          const std::shared_ptr<IncomingRequest>& request, Caller caller,
                          const std::string& correlation_id) {
  const std::string_view query = split_target(to_view(request->message.target())).query;
  auto id = query_param(query, "session_id");
  if (!id) id = query_param(query, "sessionId");  // the reference SDK's spelling
  if (!id) {
    exchange->respond(jsonrpc_error(400, -32000, "Bad Request: session_id is required"));
    return;
  }
  const auto session = plausible_session_id(*id) ? ctx.sessions.find(*id, caller.owner()) : nullptr;
  if (!session || session->kind() != HttpSession::Kind::legacy) {
    exchange->respond(jsonrpc_error(404, -32001, "Session not found"));
    return;
  }
  const auto content_type = request->header("Content-Type");
  if (!content_type || !is_json_content_type(*content_type)) {
    exchange->respond(jsonrpc_error(415, -32000,
                                    "Unsupported Media Type: Content-Type must be "
                                    "application/json"));
    return;
  }
  auto parsed = ctx.dispatcher.parse(body_of(*request));
  if (!parsed.message) {
    exchange->respond(json_response(400, parsed.refusal));
    return;
  }
  if (!ctx.auth.charge(exchange, caller, classify(*parsed.message).work)) return;
  const bool blocking = ctx.dispatcher.blocks(*parsed.message);
  auto slot = blocking ? ctx.workers.reserve() : BoundedPool::Slot();
  if (blocking && !slot) return exchange->respond(overloaded());
  session->touch();
  if (ctx.auth.required()) session->core().set_identity(std::move(caller.identity));

  Response accepted;
  accepted.status = 202;
  accepted.content_type = "text/plain";
  accepted.body = "Accepted";
  exchange->respond(std::move(accepted));

  auto job = [&ctx, session, body = std::move(*parsed.message), correlation_id] {
    core::log::CorrelationScope scope(correlation_id);
    auto answer = dispatch_message(ctx, body, session->core(), correlation_id);
    if (!answer) return;
    const json reply = std::move(*answer).to_json();
    // One event per response: SSE clients parse each event as a single message.
    if (reply.is_array()) {
      for (const auto& element : reply) session->core().send(element);
    } else {
      session->core().send(reply);
    }
  };
  if (blocking) {
    ctx.run_blocking(std::move(slot), std::move(job));
  } else {
    job();
  }
}

}  // namespace mcpd::transports::http
