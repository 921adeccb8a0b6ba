// Streamable HTTP (MCP 2025-11-25 "Transports"): POST a message, GET the standalone stream (or
// resume one with Last-Event-ID), DELETE the session. Error statuses follow the spec and the
// reference TypeScript SDK: 400 bad request/missing session, 404 unknown session, 406 Accept,
// 409 second stream, 415 Content-Type.

#include <spdlog/spdlog.h>

#include "core/observability/log.hpp"
#include "core/protocol/protocol_version.hpp"
#include "core/protocol/rpc.hpp"
#include "core/util/json_release.hpp"
#include "transports/http/modern_policy.hpp"
#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

namespace {

constexpr int k_server_error = -32000;
constexpr int k_session_not_found = -32001;

// A Streamable HTTP session of this caller (legacy sessions live at /messages only).
std::shared_ptr<HttpSession> find_session(ServerContext& ctx, std::string_view id,
                                          const Caller& caller) {
  if (!plausible_session_id(id)) return nullptr;
  auto session = ctx.sessions.find(std::string(id), caller.owner());
  return session && session->kind() == HttpSession::Kind::streamable ? session : nullptr;
}

bool initialize_succeeded(const std::optional<core::Reply>& reply) {
  if (!reply) return false;
  const json* tree = reply->tree();
  if (!tree) return true;  // a result
  const json& first = tree->is_array() ? (tree->empty() ? json() : (*tree)[0]) : *tree;
  return first.is_object() && first.contains("result");
}

std::string_view header_or(const IncomingRequest& request, std::string_view name,
                           std::string_view fallback = {}) {
  const auto value = request.header(name);
  return value ? *value : fallback;
}

// Serves the requests of a POST body and answers them on `stream`.
void answer(ServerContext& ctx, const std::shared_ptr<HttpSession>& session,
            const std::shared_ptr<EventStream>& stream, const json& body, const BodyKind& kind,
            const std::string& correlation_id, bool modern) {
  core::log::CorrelationScope scope(correlation_id);
  auto reply = dispatch_message(ctx, body, session->core(), correlation_id);
  if (!reply && kind.requests == 1 &&
      ctx.dispatcher.subscriptions().live(&session->core(), request_ids(body)[0])) {
    session->keep_open(stream);  // a subscriptions/listen: answered when it ends
    return;
  }
  const unsigned status = reply ? reply_status(body, *reply, modern) : 200;
  stream->finish(reply ? std::optional<json>(std::move(*reply).to_json()) : std::nullopt, status);
  session->release(stream);
}

// Runs a POST body through `session`: notifications and responses get 202 at once; requests
// are answered on a stream, from a worker thread when they may block (else here, with nothing
// copied). A `modern` request's plain JSON answer carries the HTTP status its error calls for
// (modern_reply_status).
void dispatch(ServerContext& ctx, const std::shared_ptr<HttpSession>& session,
              const std::shared_ptr<Exchange>& exchange, json body, const BodyKind& kind,
              const std::string& protocol_version, const std::string& correlation_id,
              bool modern = false) {
  if (kind.requests == 0 && kind.invalid == 0) {
    // Nothing to answer, unless the dispatcher refused the message as a whole (a batch).
    if (auto refusal = dispatch_message(ctx, body, session->core(), correlation_id))
      return exchange->respond(json_response(reply_status(body, *refusal, modern), *refusal));
    Response accepted;
    accepted.status = 202;
    exchange->respond(std::move(accepted));
    return;
  }
  if (exchange->closed()) return;  // the client left while we authenticated it
  const bool blocking = ctx.dispatcher.blocks(body);
  auto slot = blocking ? ctx.workers.reserve() : BoundedPool::Slot();
  if (blocking && !slot) return exchange->respond(overloaded());
  auto stream = session->open_request_stream(request_ids(body), exchange, protocol_version);
  if (!blocking) return answer(ctx, session, stream, body, kind, correlation_id, modern);
  ctx.run_blocking(std::move(slot), [&ctx, session, stream, body = std::move(body), kind,
                                     correlation_id, modern] {
    answer(ctx, session, stream, body, kind, correlation_id, modern);
  });
}

void initialize(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange, Caller caller,
                const json& body, const std::string& correlation_id) {
  if (ctx.stopping) {
    exchange->respond(jsonrpc_error(503, k_server_error, "server shutting down"));
    return;
  }
  auto owner = caller.owner();  // before the identity is moved: it is made from it
  auto session =
      ctx.sessions.create(HttpSession::Kind::streamable, std::move(owner), std::move(caller.identity));
  if (!session) {
    spdlog::warn("refused a new session: {} sessions open", ctx.sessions.size());
    exchange->respond(jsonrpc_error(503, k_server_error, "too many sessions; retry later"));
    return;
  }
  auto reply = dispatch_message(ctx, body, session->core(), correlation_id);
  Response response;
  if (reply) {
    response = json_response(reply_status(body, *reply, false), *reply);
  } else {
    response.status = 202;
  }
  if (initialize_succeeded(reply)) {
    response.set("Mcp-Session-Id", session->id());
    spdlog::info("session {}… opened", session->id().substr(0, 8));
  } else {
    ctx.sessions.remove(session->id());
  }
  exchange->respond(std::move(response));
}

// True when `body` opens a subscriptions/listen: its answer waits for the listen to end.
bool opens_listen(const json& body) {
  if (!body.is_object()) return false;
  const auto method = body.find("method");
  return method != body.end() && method->is_string() &&
         method->get_ref<const std::string&>() == "subscriptions/listen";
}

// A stateless POST whose requests are all quick (Dispatcher::blocks: no exec, upstream or
// resources/read) is answered here, on the I/O thread, before this returns: it needs no
// HttpSession, no stream and no place in the registry's list of calls to cancel at shutdown,
// so none is made (and no lock shared by the I/O threads is taken). Quick requests send
// nothing to the client while they run (only exec and upstream calls report progress or log
// lines, and listens are served by post_stateless); should one ever try, the message is
// dropped with a warning rather than sent on a stream nobody opened.
void answer_at_once(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange, Caller caller,
                    const json& body, const BodyKind& kind, const std::string& protocol_version,
                    const std::string& correlation_id, bool modern) {
  core::Session session(
      [](const json&, const json& related_id) {
        spdlog::warn("request {}: a message to the client was dropped (a quick stateless "
                     "request has no stream)",
                     related_id.dump(-1, ' ', false, json::error_handler_t::replace));
      },
      std::move(caller.identity));
  if (!kind.initialize && !modern) session.assume_initialized(protocol_version);
  core::log::CorrelationScope scope(correlation_id);
  auto reply = dispatch_message(ctx, body, session, correlation_id);
  if (!reply) {
    Response accepted;
    accepted.status = 202;
    return exchange->respond(std::move(accepted));
  }
  exchange->respond(json_response(reply_status(body, *reply, modern), *reply));
  reply->release();
}

// A session for one POST. A 2025 request acts as if the handshake had happened; a 2026 one
// needs none (its _meta says everything).
void post_stateless(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange, Caller caller,
                    json body, const BodyKind& kind, const std::string& protocol_version,
                    const std::string& correlation_id, bool modern = false) {
  if (kind.requests + kind.invalid > 0 && !exchange->closed() && !opens_listen(body) &&
      !ctx.dispatcher.blocks(body)) {
    answer_at_once(ctx, exchange, std::move(caller), body, kind, protocol_version,
                   correlation_id, modern);
    return core::release(body);
  }
  auto session = HttpSession::create(HttpSession::Kind::stateless, {}, {},
                                     std::move(caller.identity), ctx.sessions.options());
  if (!kind.initialize && !modern) session->core().assume_initialized(protocol_version);
  if (kind.requests > 0) ctx.sessions.track_ephemeral(session);
  dispatch(ctx, session, exchange, std::move(body), kind, protocol_version, correlation_id, modern);
}

// A POST body the transport accepts: negotiated media types, parsable JSON within the depth
// limit, JSON-RPC shaped, a supported MCP-Protocol-Version (when given). Answers the exchange
// and returns nullopt otherwise.
struct Message {
  json body;
  BodyKind kind;
  std::optional<std::string> version;  // the MCP-Protocol-Version header
};

std::optional<Message> read_message(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                                    const IncomingRequest& request) {
  const std::string_view accept = header_or(request, "Accept");
  if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
    exchange->respond(jsonrpc_error(406, k_server_error,
                                    "Not Acceptable: Client must accept both application/json "
                                    "and text/event-stream"));
    return std::nullopt;
  }
  if (!is_json_content_type(header_or(request, "Content-Type"))) {
    exchange->respond(jsonrpc_error(
        415, k_server_error, "Unsupported Media Type: Content-Type must be application/json"));
    return std::nullopt;
  }
  auto parsed = ctx.dispatcher.parse(body_of(request));
  if (!parsed.message) {
    exchange->respond(json_response(400, parsed.refusal));
    return std::nullopt;
  }
  Message message{std::move(*parsed.message), {}, std::nullopt};
  message.kind = classify(message.body);
  const BodyKind& kind = message.kind;
  if ((kind.batch && message.body.empty()) || (!kind.batch && kind.invalid > 0)) {
    exchange->respond(jsonrpc_error(400, core::rpc_code::k_invalid_request, "Invalid Request"));
    return std::nullopt;
  }
  return message;
}

// The MCP-Protocol-Version of a 2025 request: absent, or one we speak (else answered 400).
bool read_legacy_version(const std::shared_ptr<Exchange>& exchange, const IncomingRequest& request,
                         Message& message) {
  const auto version = request.header("MCP-Protocol-Version");
  if (!version) return true;
  if (!supported_protocol_version(*version)) {
    exchange->respond(jsonrpc_error(
        400, k_server_error,
        "Bad Request: Unsupported protocol version: " + std::string(version->substr(0, 32))));
    return false;
  }
  message.version = std::string(*version);
  return true;
}

Response refusal_response(const Refusal& refusal, const json& body) {
  json id = nullptr;
  if (body.is_object() && body.contains("id") &&
      (body["id"].is_string() || body["id"].is_number_integer()))
    id = body["id"];
  return json_response(refusal.status,
                       core::make_error(id, {refusal.code, refusal.message, refusal.data}));
}

// The checks of a 2026 request that need more than its body: the version it claims, the
// standard headers and, for tools/call, the tool's Mcp-Param-* headers.
std::optional<Refusal> check_modern(ServerContext& ctx, const json& body,
                                    const HeaderLookup& headers) {
  if (!body.contains("id")) return std::nullopt;  // notifications carry no envelope
  if (auto refusal =
          check_version(claimed_version(body).value_or(""), core::modern_protocol_versions()))
    return refusal;
  if (auto refusal = check_standard_headers(body, headers)) return refusal;
  if (body["method"] != "tools/call") return std::nullopt;
  const json& params = body["params"];
  const auto name = params.find("name");
  if (name == params.end() || !name->is_string()) return std::nullopt;
  const core::ToolDef* tool = ctx.dispatcher.catalog().find_tool(name->get<std::string>());
  if (!tool) return std::nullopt;
  const auto schema = tool->descriptor.find("inputSchema");
  if (schema == tool->descriptor.end()) return std::nullopt;
  const auto declarations = param_headers(*schema);
  if (declarations.empty()) return std::nullopt;
  const auto arguments = params.find("arguments");
  return check_param_headers(declarations, arguments == params.end() ? json() : *arguments,
                             headers);
}

void post(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
          const std::shared_ptr<IncomingRequest>& request, Caller caller,
          const std::string& correlation_id) {
  auto message = read_message(ctx, exchange, *request);
  if (!message) return;
  const BodyKind& kind = message->kind;
  if (!ctx.auth.charge(exchange, caller, kind.work)) return;

  // 2026-07-28 traffic is told apart by its body and served without a session, whatever
  // --stateless says; an Mcp-Session-Id or Last-Event-ID it carries is ignored.
  const HeaderLookup headers = [&request](std::string_view name) { return request->header(name); };
  const EraDecision era = decide_era(message->body, headers);
  if (era.refusal) return exchange->respond(refusal_response(*era.refusal, message->body));
  if (era.era == Era::modern) {
    if (auto refusal = check_modern(ctx, message->body, headers))
      return exchange->respond(refusal_response(*refusal, message->body));
    const std::string version =
        claimed_version(message->body).value_or(core::modern_protocol_versions()[0]);
    post_stateless(ctx, exchange, std::move(caller), std::move(message->body), kind, version,
                   correlation_id, true);
    return;
  }
  if (!read_legacy_version(exchange, *request, *message)) return;

  if (ctx.settings.stateless) {
    const std::string version = message->version.value_or(std::string(k_default_protocol_version));
    post_stateless(ctx, exchange, std::move(caller), std::move(message->body), kind, version,
                   correlation_id);
    return;
  }

  const auto session_id = request->header("Mcp-Session-Id");
  if (kind.initialize) {
    if (session_id) {
      const auto existing = find_session(ctx, *session_id, caller);
      exchange->respond(existing ? jsonrpc_error(400, core::rpc_code::k_invalid_request,
                                                 "Invalid Request: Server already initialized")
                                 : jsonrpc_error(404, k_session_not_found, "Session not found"));
      return;
    }
    initialize(ctx, exchange, std::move(caller), message->body, correlation_id);
    return;
  }
  if (!session_id) {
    exchange->respond(
        jsonrpc_error(400, k_server_error, "Bad Request: Mcp-Session-Id header is required"));
    return;
  }
  const auto session = find_session(ctx, *session_id, caller);
  if (!session) {
    exchange->respond(jsonrpc_error(404, k_session_not_found, "Session not found"));
    return;
  }
  // Streams follow what the client negotiated (priming events from 2025-11-25 on), even when
  // a request's header names an older version; so do batches (the dispatcher decides).
  const std::string negotiated = session->core().protocol_version();
  const std::string version = message->version.value_or(negotiated);
  session->touch();
  // Every request is authenticated; the latest identity applies (allow-list changes).
  if (ctx.auth.required()) session->core().set_identity(std::move(caller.identity));
  dispatch(ctx, session, exchange, std::move(message->body), kind,
           negotiated.empty() ? version : negotiated, correlation_id);
}

// The session a GET or DELETE names, or an answer explaining why there is none.
std::shared_ptr<HttpSession> session_for(ServerContext& ctx,
                                         const std::shared_ptr<Exchange>& exchange,
                                         const IncomingRequest& request, const Caller& caller) {
  const auto version = request.header("MCP-Protocol-Version");
  if (version && !supported_protocol_version(*version)) {
    exchange->respond(jsonrpc_error(
        400, k_server_error,
        "Bad Request: Unsupported protocol version: " + std::string(version->substr(0, 32))));
    return nullptr;
  }
  const auto session_id = request.header("Mcp-Session-Id");
  if (!session_id) {
    exchange->respond(
        jsonrpc_error(400, k_server_error, "Bad Request: Mcp-Session-Id header is required"));
    return nullptr;
  }
  auto session = find_session(ctx, *session_id, caller);
  if (!session) exchange->respond(jsonrpc_error(404, k_session_not_found, "Session not found"));
  return session;
}

void get(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
         const std::shared_ptr<IncomingRequest>& request, const Caller& caller) {
  if (!accepts(header_or(*request, "Accept"), "text/event-stream")) {
    exchange->respond(
        jsonrpc_error(406, k_server_error, "Not Acceptable: Client must accept text/event-stream"));
    return;
  }
  const auto session = session_for(ctx, exchange, *request, caller);
  if (!session) return;
  if (ctx.stopping) {
    exchange->respond(jsonrpc_error(503, k_server_error, "server shutting down"));
    return;
  }
  session->touch();
  const auto version = request->header("MCP-Protocol-Version");
  const std::string protocol = version ? std::string(*version) : session->core().protocol_version();

  if (const auto last_event_id = request->header("Last-Event-ID")) {
    const auto result = session->resume(exchange, *last_event_id);
    if (result == EventStream::Resume::resumed) return;
    if (result == EventStream::Resume::conflict) {
      exchange->respond(
          jsonrpc_error(409, k_server_error, "Conflict: Stream already has an active connection"));
      return;
    }
    // An unknown request stream cannot be resumed; the standalone stream simply reopens.
    const auto parsed = EventStream::parse_event_id(*last_event_id);
    if (!parsed || parsed->first != 0) {
      exchange->respond(
          jsonrpc_error(400, k_server_error, "Bad Request: unknown or expired Last-Event-ID"));
      return;
    }
  }
  if (!session->open_standalone(exchange, protocol))
    exchange->respond(
        jsonrpc_error(409, k_server_error, "Conflict: Only one SSE stream is allowed per session"));
}

void erase(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
           const std::shared_ptr<IncomingRequest>& request, const Caller& caller) {
  const auto session = session_for(ctx, exchange, *request, caller);
  if (!session) return;
  spdlog::info("session {}… deleted by the client", session->id().substr(0, 8));
  ctx.sessions.remove(session->id());
  Response response;
  response.status = 200;
  exchange->respond(std::move(response));
}

}  // namespace

void serve_mcp(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
               const std::shared_ptr<IncomingRequest>& request, Caller caller,
               const std::string& correlation_id) {
  switch (request->message.method()) {
    case boost::beast::http::verb::post:
      post(ctx, exchange, request, std::move(caller), correlation_id);
      break;
    case boost::beast::http::verb::get:
      get(ctx, exchange, request, caller);
      break;
    case boost::beast::http::verb::delete_:
      erase(ctx, exchange, request, caller);
      break;
    default:
      exchange->respond(jsonrpc_error(405, k_server_error, "Method not allowed."));
  }
}

}  // namespace mcpd::transports::http
