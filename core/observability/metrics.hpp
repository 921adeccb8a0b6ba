#pragma once
// The metrics of PRODUCT §8, rendered for GET /metrics in the Prometheus text exposition format
// 0.0.4 or as JSON. Counters are atomics; labelled series are created once behind a shared
// mutex and then incremented without a lock. The number of distinct label values is capped
// (extra values share the series labelled k_overflow_label) so a client cannot grow memory.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/protocol/dispatcher.hpp"

namespace mcpd::core {

struct MetricsLimits {
  std::size_t max_tools = 1000;       // distinct `tool` label values
  std::size_t max_auth_reasons = 32;  // distinct `reason` label values
  std::size_t max_pools = 8;          // distinct `pool` label values
  std::size_t max_label_bytes = 128;  // longer label values are cut (at a UTF-8 boundary)
};

class Metrics final : public CallObserver {
 public:
  using Limits = MetricsLimits;

  // Upper bounds of mcp_tool_duration_seconds buckets (+Inf is implied).
  static constexpr std::array<double, 11> k_duration_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                             0.5,   1,    2.5,   5,    10};
  // The label value that collects everything past a cap.
  static constexpr std::string_view k_overflow_label = "_other";
  // Reasons shown with 0 from the start, so dashboards and alerts see every series.
  static const std::vector<std::string>& known_auth_reasons();
  // The pools whose full queue refuses requests (mcp_overload_rejections_total{pool}):
  // "workers" (tool calls and other blocking requests), "auxiliary" (auth lookups, readiness).
  static const std::vector<std::string>& known_overload_pools();

  static constexpr std::string_view k_prometheus_content_type =
      "text/plain; version=0.0.4; charset=utf-8";

  explicit Metrics(Limits limits = {});
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Creates the series of these tools with zero values (typically the whole catalog).
  void declare_tools(const std::vector<std::string>& tools);

  // CallObserver: mcp_tool_invocations_total{tool,status} and mcp_tool_duration_seconds{tool}.
  void tool_called(const std::string& tool, bool is_error, double seconds) override;
  // mcp_auth_failures_total{reason}; `reason` is core::auth::reason_label() (never a credential).
  void auth_failure(std::string_view reason);
  // mcp_requests_total: every HTTP request served, whatever its outcome.
  void request();
  // mcp_errors_total: requests answered with an error (HTTP status >= 400 or a JSON-RPC error).
  void error();
  // mcp_overload_rejections_total{pool}: requests answered 503 because `pool`'s queue was full.
  void overload_rejection(std::string_view pool);
  // mcp_active_sessions.
  void add_active_sessions(std::int64_t delta);
  void set_active_sessions(std::int64_t value);
  // mcp_rate_limit_clients: read from `source` at render time (e.g. the limiters' size()),
  // or the last value given to set_rate_limit_clients when there is no source.
  void set_rate_limit_clients_source(std::function<std::size_t()> source);
  void set_rate_limit_clients(std::size_t value);
  // mcp_http_connections_refused_total: connections turned away because the server was at its
  // connection cap.
  void connection_refused();
  // mcp_http_connections: HTTP connections currently open, read from `source` at render time
  // (absent from the output without one).
  void set_http_connections_source(std::function<std::size_t()> source);

  // The exposition text (Content-Type k_prometheus_content_type), process_* included.
  std::string render_prometheus() const;
  // {"mcp_requests_total": 3, ..., "mcp_tool_invocations_total": [{"labels": {...},
  //  "value": n}], "mcp_tool_duration_seconds": [{"labels": {...}, "buckets": {"0.005": n,
  //  ..., "+Inf": n}, "sum": s, "count": n}], "process_cpu_seconds_total": s, ...}.
  // Buckets are cumulative, as in the text format.
  nlohmann::json render_json() const;

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

// GET /metrics content negotiation: true when `accept` asks for application/json with a higher
// preference (q) than text/plain and OpenMetrics; the text format is the default.
bool wants_json_metrics(std::string_view accept);

// Prometheus text-format helpers, exposed for tests.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// Go-compatible sample value: integers without a fraction, shortest round-trip otherwise,
// "+Inf", "-Inf", "NaN".
std::string format_sample_value(double value);
// Valid UTF-8 of at most `max_bytes` bytes: invalid sequences become U+FFFD, the tail is cut
// at a character boundary.
std::string sanitize_label_value(std::string_view value, std::size_t max_bytes);

}  // namespace mcpd::core
