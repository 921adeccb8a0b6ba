// Around every request: correlation id, Host and Origin checks, CORS, routing (404/405),
// preflight, then health/metrics and the RFC 9728 metadata directly or the MCP routes behind
// authentication.

#include <spdlog/spdlog.h>

#include "core/observability/log.hpp"
#include "transports/http/listener.hpp"
#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

namespace {

std::string_view to_view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

// MCP routes answer with a JSON-RPC error without id; the others with {"error","message"}.
Response refuse(Route route, unsigned status, std::string error, std::string message) {
  if (route == Route::mcp || route == Route::legacy_messages || route == Route::legacy_sse)
    return jsonrpc_error(status, -32000, std::move(message));
  return error_body(status, std::move(error), std::move(message));
}

// Host and Origin (DNS rebinding, cross-site requests); adds the CORS headers of an accepted
// origin. False when the request was refused.
bool check_host_and_origin(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                           const IncomingRequest& request, Route route) {
  const auto host = request.header("Host");
  if (!host && request.message.version() >= 11) {
    exchange->respond(refuse(route, 400, "bad_request", "Bad Request: Host header required"));
    return false;
  }
  HostPolicy policy;
  policy.loopback_listener = request.listener && request.listener->loopback;
  policy.port = request.listener ? request.listener->port : 0;
  policy.allowed_hosts = ctx.settings.allowed_hosts;
  if (!host_allowed(host, policy)) {
    spdlog::warn("refused a request for Host {} from {}", host ? *host : "(none)", request.client);
    exchange->respond(refuse(route, 403, "forbidden", "Forbidden: invalid Host header"));
    return false;
  }
  const auto origin = request.header("Origin");
  const OriginDecision decision = check_origin(origin, host, ctx.settings.allowed_origins);
  if (decision == OriginDecision::forbidden) {
    spdlog::warn("refused a request from Origin {} ({})", *origin, request.client);
    exchange->respond(refuse(route, 403, "forbidden", "Forbidden: origin not allowed"));
    return false;
  }
  for (auto& [name, value] : cors_headers(origin, decision)) exchange->add_header(name, value);
  return true;
}

// 404, 405 and OPTIONS (CORS preflight). False when the request was answered.
bool check_route(const std::shared_ptr<Exchange>& exchange, const IncomingRequest& request,
                 const RouteMatch& match, std::string_view method) {
  if (match.route == Route::none) {
    exchange->respond(error_body(404, "not_found", "no such endpoint"));
    return false;
  }
  if (!match.method_allowed) {
    Response response = refuse(match.route, 405, "method_not_allowed", "Method not allowed.");
    response.set("Allow", std::string(match.allow));
    exchange->respond(std::move(response));
    return false;
  }
  if (method != "OPTIONS") return true;
  Response response;
  response.status = 204;
  if (request.header("Origin") && request.header("Access-Control-Request-Method")) {
    for (auto& header :
         preflight_headers(match.allow, request.header("Access-Control-Request-Headers")))
      response.headers.push_back(std::move(header));
  } else {
    response.set("Allow", std::string(match.allow));
  }
  exchange->respond(std::move(response));
  return false;
}

void serve_authenticated(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                         const std::shared_ptr<IncomingRequest>& request, Route route,
                         Caller caller) {
  const std::string& correlation_id = exchange->correlation_id();
  core::log::CorrelationScope scope(correlation_id);
  switch (route) {
    case Route::mcp:
      serve_mcp(ctx, exchange, request, std::move(caller), correlation_id);
      break;
    case Route::legacy_sse:
      serve_legacy_stream(ctx, exchange, request, std::move(caller));
      break;
    case Route::legacy_messages:
      serve_legacy_message(ctx, exchange, request, std::move(caller), correlation_id);
      break;
    default:
      exchange->respond(error_body(404, "not_found", "no such endpoint"));
  }
}

// GET /.well-known/oauth-protected-resource[/mcp] (RFC 9728), when JWT authentication is on:
// public like the probes (no authentication, no rate limit).
void serve_resource_metadata(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                             const IncomingRequest& request, std::string_view method,
                             std::string_view path) {
  const auto& metadata = ctx.auth.protected_resource();
  const std::string resource = ctx.auth.resource_for(request);
  std::string_view suffix = path.substr(k_resource_metadata_path.size());
  if (suffix.size() > 1 && suffix.back() == '/') suffix.remove_suffix(1);
  const bool known = suffix.empty() || suffix == "/" || suffix == "/mcp" ||
                     (url_path(resource) != "/" && suffix == url_path(resource));
  if (!metadata || !known) {
    exchange->respond(error_body(404, "not_found", "no such endpoint"));
    return;
  }
  constexpr std::string_view allow = "GET, HEAD, OPTIONS";
  if (method == "OPTIONS") {
    Response response;
    response.status = 204;
    if (request.header("Origin") && request.header("Access-Control-Request-Method")) {
      for (auto& header : preflight_headers(allow)) response.headers.push_back(std::move(header));
    } else {
      response.set("Allow", std::string(allow));
    }
    exchange->respond(std::move(response));
    return;
  }
  if (method != "GET" && method != "HEAD") {
    Response response = error_body(405, "method_not_allowed", "Method not allowed.");
    response.set("Allow", std::string(allow));
    exchange->respond(std::move(response));
    return;
  }
  Response response = json_response(200, resource_metadata_document(*metadata, resource));
  // A document derived from the request's Host must not be shared between hosts by caches.
  response.set("Cache-Control", metadata->resource.empty() ? "no-store" : "public, max-age=300");
  exchange->respond(std::move(response));
}

bool is_resource_metadata_path(std::string_view path) {
  return path.substr(0, k_resource_metadata_path.size()) == k_resource_metadata_path &&
         (path.size() == k_resource_metadata_path.size() ||
          path[k_resource_metadata_path.size()] == '/');
}

}  // namespace

void handle_request(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                    const std::shared_ptr<IncomingRequest>& request) {
  // X-Correlation-ID: the client's when it is sane, else ours; on every response and log line.
  const auto given = request->header("X-Correlation-ID");
  exchange->set_correlation_id(given && valid_correlation_id(*given)
                                   ? std::string(*given)
                                   : core::log::new_correlation_id());
  core::log::CorrelationScope scope(exchange->correlation_id());

  request->client = client_address(request->peer, request->header("X-Forwarded-For"));
  const std::string_view method = to_view(request->message.method_string());
  const Target target = split_target(to_view(request->message.target()));
  const RouteMatch match = match_route(method, target.path, ctx.settings.stateless);
  spdlog::debug("{} {} from {}", method, target.path, request->client);

  // Past the connection cap only the probes answer (listener.hpp, Admission).
  if (request->over_capacity && !is_public_route(match.route)) {
    if (ctx.metrics) ctx.metrics->connection_refused();
    exchange->respond(too_many_connections());
    return;
  }

  if (!check_host_and_origin(ctx, exchange, *request, match.route)) return;
  if (is_resource_metadata_path(target.path)) {
    serve_resource_metadata(ctx, exchange, *request, method, target.path);
    return;
  }
  if (!check_route(exchange, *request, match, method)) return;
  if (is_public_route(match.route)) {
    serve_probe(ctx, exchange, request, match.route);
    return;
  }
  // Captures only what fits in the std::function itself.
  ctx.auth.check(exchange, request,
                 [&ctx, route = match.route](const std::shared_ptr<Exchange>& accepted,
                                             const std::shared_ptr<IncomingRequest>& of,
                                             Caller caller) {
                   serve_authenticated(ctx, accepted, of, route, std::move(caller));
                 });
}

}  // namespace mcpd::transports::http
