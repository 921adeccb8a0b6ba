// Health, readiness and metrics (seed 1: GET /mcp/health; seed 2: /live, /ready, /health,
// /metrics). Readiness checks may block (a storage round trip), so they run off the I/O threads.

#include <boost/asio/post.hpp>
#include <chrono>
#include <ctime>

#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

namespace {

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), text, static_cast<int>(millis));
  return out;
}

// Asked for JSON explicitly (Prometheus scrapers send text/plain or */*).
bool wants_json(const IncomingRequest& request) {
  const auto accept = request.header("Accept");
  if (!accept) return false;
  const auto pos = accept->find("application/json");
  return pos != std::string_view::npos && accepts(*accept, "application/json");
}

void readiness(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange, bool combined) {
  const bool queued = ctx.auxiliary.try_post([&ctx, exchange, combined] {
    json checks = json::object();
    bool ok = !ctx.stopping;
    for (const auto& probe : ctx.readiness) {
      bool passed = false;
      try {
        passed = probe.check && probe.check();
      } catch (const std::exception&) {
        passed = false;
      }
      checks[probe.name] = passed ? "ok" : "error";
      ok = ok && passed;
    }
    if (ctx.stopping) checks["server"] = "stopping";
    json body;
    if (combined) {
      body = {{"status", ok ? "healthy" : "degraded"},
              {"timestamp", now_iso8601()},
              {"version", ctx.dispatcher.options().info.version},
              {"checks", std::move(checks)}};
    } else {
      body = {{"status", ok ? "ready" : "not_ready"},
              {"checks", std::move(checks)},
              {"timestamp", now_iso8601()}};
    }
    Response response = json_response(ok ? 200 : 503, body);
    response.set("Cache-Control", "no-store");
    exchange->respond(std::move(response));
  });
  if (!queued) exchange->respond(overloaded(false));
}

}  // namespace

void serve_probe(ServerContext& ctx, const std::shared_ptr<Exchange>& exchange,
                 const std::shared_ptr<IncomingRequest>& request, Route route) {
  switch (route) {
    case Route::mcp_health:
      exchange->respond(json_response(200, json{{"status", "ok"}}));
      return;
    case Route::live:
      exchange->respond(
          json_response(200, json{{"status", "alive"},
                                  {"timestamp", now_iso8601()},
                                  {"version", ctx.dispatcher.options().info.version}}));
      return;
    case Route::ready:
      readiness(ctx, exchange, false);
      return;
    case Route::health:
      readiness(ctx, exchange, true);
      return;
    case Route::metrics: {
      Response response;
      if (!ctx.metrics) {
        response = error_body(404, "not_found", "metrics are not enabled");
      } else if (wants_json(*request)) {
        response = json_response(200, ctx.metrics->render_json());
      } else {
        response.content_type = core::Metrics::k_prometheus_content_type;
        response.body = ctx.metrics->render_prometheus();
      }
      response.set("Cache-Control", "no-store");
      exchange->respond(std::move(response));
      return;
    }
    default:
      exchange->respond(error_body(404, "not_found", "no such endpoint"));
  }
}

}  // namespace mcpd::transports::http
