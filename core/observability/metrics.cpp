#include "core/observability/metrics.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "core/observability/process_metrics.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::core {

namespace {

using json = nlohmann::json;
constexpr std::size_t k_bucket_count = Metrics::k_duration_buckets.size();
constexpr double k_max_observed_seconds = 1e9;  // keeps the nanosecond sum from overflowing

struct ToolSeries {
  std::atomic<std::uint64_t> success{0};
  std::atomic<std::uint64_t> failure{0};
  // Not cumulative: buckets[i] counts observations in (bound[i-1], bound[i]]; the last slot
  // is (10, +Inf). The total is their sum, so _count always equals the +Inf bucket.
  std::array<std::atomic<std::uint64_t>, k_bucket_count + 1> buckets{};
  std::atomic<std::uint64_t> sum_nanoseconds{0};
};

struct Counter {
  std::atomic<std::uint64_t> value{0};
};

std::atomic<std::uint64_t> g_next_family_id{1};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// What one thread has already found in each family: label -> series (a series never moves or
// goes away while its family lives, and a family's id is never reused).
using SeriesMemo = std::unordered_map<std::string, void*, StringHash, std::equal_to<>>;
constexpr std::size_t k_memo_families = 16;  // more (tests make many registries): start over
thread_local std::unordered_map<std::uint64_t, SeriesMemo> t_series_memo;

// Series keyed by one label value, created once and never removed, so references stay valid
// and increments need no lock. A thread finds a label it has seen before in its own memo, so
// the per-call path takes no lock that the threads share; the first time it takes the shared
// lock.
template <class Series>
class Family {
 public:
  Family(std::size_t cap, std::size_t max_label_bytes)
      : m_id(g_next_family_id.fetch_add(1, std::memory_order_relaxed)),
        m_cap(cap),
        m_max_label_bytes(max_label_bytes) {}

  // `declared` series are always created; others fall into k_overflow_label past the cap.
  Series& get(std::string_view label, bool declared = false) {
    if (declared) return find_or_create(label, true);
    auto memo = t_series_memo.find(m_id);
    if (memo != t_series_memo.end()) {
      if (const auto it = memo->second.find(label); it != memo->second.end())
        return *static_cast<Series*>(it->second);
    } else {
      if (t_series_memo.size() >= k_memo_families) t_series_memo.clear();
      memo = t_series_memo.emplace(m_id, SeriesMemo{}).first;
    }
    Series& series = find_or_create(label, declared);
    // Bounded like the family: past the cap, unknown labels all map to the overflow series.
    if (memo->second.size() < m_cap + 8) memo->second.emplace(label, &series);
    return series;
  }

  template <class Visit>
  void for_each(Visit visit) const {
    std::shared_lock lock(m_mutex);
    for (const auto& [label, series] : m_series) visit(label, *series);
  }

 private:
  Series& find_or_create(std::string_view label, bool declared) {
    {
      std::shared_lock lock(m_mutex);
      if (const auto it = m_series.find(label); it != m_series.end()) return *it->second;
    }
    std::string clean = sanitize_label_value(label, m_max_label_bytes);
    std::unique_lock lock(m_mutex);
    if (const auto it = m_series.find(clean); it != m_series.end()) return *it->second;
    if (!declared && m_series.size() >= m_cap) clean = std::string(Metrics::k_overflow_label);
    auto& slot = m_series[std::move(clean)];
    if (!slot) slot = std::make_unique<Series>();
    return *slot;
  }

  const std::uint64_t m_id;
  std::size_t m_cap;
  std::size_t m_max_label_bytes;
  mutable std::shared_mutex m_mutex;
  std::map<std::string, std::unique_ptr<Series>, std::less<>> m_series;
};

std::uint64_t load(const std::atomic<std::uint64_t>& value) {
  return value.load(std::memory_order_relaxed);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void sample(std::string& out, std::string_view name, Labels labels, std::string_view value) {
  out.append(name);
  if (labels.size() > 0) {
    out.push_back('{');
    bool first = true;
    for (const auto& [key, label] : labels) {
      if (!first) out.push_back(',');
      first = false;
      out.append(key).append("=\"").append(escape_label_value(label)).append("\"");
    }
    out.push_back('}');
  }
  out.append(" ").append(value).append("\n");
}

std::string bucket_label(std::size_t index) {
  return index < k_bucket_count ? format_sample_value(Metrics::k_duration_buckets[index])
                                : std::string("+Inf");
}

struct ProcessMetric {
  const char* name;
  const char* type;
  const char* help;
  std::optional<double> ProcessSample::*field;
};

constexpr ProcessMetric k_process_metrics[] = {
    {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
     &ProcessSample::cpu_seconds},
    {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
     &ProcessSample::resident_bytes},
    {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
     &ProcessSample::virtual_bytes},
    {"process_start_time_seconds", "gauge",
     "Start time of the process since unix epoch in seconds.", &ProcessSample::start_time_seconds},
    {"process_open_fds", "gauge", "Number of open file descriptors.", &ProcessSample::open_fds},
    {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
     &ProcessSample::max_fds},
};

}  // namespace

struct Metrics::State {
  explicit State(const Limits& limits)
      : tools(limits.max_tools, limits.max_label_bytes),
        auth_failures(limits.max_auth_reasons, limits.max_label_bytes),
        overload_rejections(limits.max_pools, limits.max_label_bytes) {}

  Family<ToolSeries> tools;
  Family<Counter> auth_failures;
  Family<Counter> overload_rejections;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::int64_t> active_sessions{0};
  std::atomic<std::uint64_t> rate_limit_clients{0};
  std::atomic<std::uint64_t> connections_refused{0};
  mutable std::mutex source_mutex;
  std::function<std::size_t()> rate_limit_source;
  std::function<std::size_t()> connections_source;

  std::optional<std::uint64_t> http_connections_now() const {
    std::function<std::size_t()> source;
    {
      std::lock_guard lock(source_mutex);
      source = connections_source;
    }
    if (!source) return std::nullopt;
    try {
      return source();
    } catch (...) {
      return std::nullopt;  // a scrape must not fail
    }
  }

  std::uint64_t rate_limit_clients_now() const {
    std::function<std::size_t()> source;
    {
      std::lock_guard lock(source_mutex);
      source = rate_limit_source;
    }
    if (source) {
      try {
        return source();
      } catch (...) {
        // Fall back to the stored value; a scrape must not fail.
      }
    }
    return load(rate_limit_clients);
  }
};

const std::vector<std::string>& Metrics::known_auth_reasons() {
  static const std::vector<std::string> reasons{"missing", "malformed",     "unknown",    "revoked",
                                                "expired", "user_inactive", "unavailable"};
  return reasons;
}

const std::vector<std::string>& Metrics::known_overload_pools() {
  static const std::vector<std::string> pools{"workers", "auxiliary"};
  return pools;
}

Metrics::Metrics(Limits limits) : m_state(std::make_unique<State>(limits)) {
  for (const auto& reason : known_auth_reasons()) m_state->auth_failures.get(reason, true);
  for (const auto& pool : known_overload_pools()) m_state->overload_rejections.get(pool, true);
}

Metrics::~Metrics() = default;

void Metrics::declare_tools(const std::vector<std::string>& tools) {
  for (const auto& tool : tools) m_state->tools.get(tool, true);
}

void Metrics::tool_called(const std::string& tool, bool is_error, double seconds) {
  auto& series = m_state->tools.get(tool);
  (is_error ? series.failure : series.success).fetch_add(1, std::memory_order_relaxed);
  if (!(seconds > 0)) seconds = 0;  // also catches NaN
  seconds = std::min(seconds, k_max_observed_seconds);
  const auto bound =
      std::lower_bound(k_duration_buckets.begin(), k_duration_buckets.end(), seconds);
  const auto index = static_cast<std::size_t>(bound - k_duration_buckets.begin());
  series.buckets[index].fetch_add(1, std::memory_order_relaxed);
  series.sum_nanoseconds.fetch_add(static_cast<std::uint64_t>(std::llround(seconds * 1e9)),
                                   std::memory_order_relaxed);
}

void Metrics::auth_failure(std::string_view reason) {
  m_state->auth_failures.get(reason).value.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::overload_rejection(std::string_view pool) {
  m_state->overload_rejections.get(pool).value.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::request() {
  m_state->requests.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::error() {
  m_state->errors.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::add_active_sessions(std::int64_t delta) {
  m_state->active_sessions.fetch_add(delta, std::memory_order_relaxed);
}

void Metrics::set_active_sessions(std::int64_t value) {
  m_state->active_sessions.store(value, std::memory_order_relaxed);
}

void Metrics::set_rate_limit_clients_source(std::function<std::size_t()> source) {
  std::lock_guard lock(m_state->source_mutex);
  m_state->rate_limit_source = std::move(source);
}

void Metrics::set_rate_limit_clients(std::size_t value) {
  m_state->rate_limit_clients.store(value, std::memory_order_relaxed);
}

void Metrics::connection_refused() {
  m_state->connections_refused.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::set_http_connections_source(std::function<std::size_t()> source) {
  std::lock_guard lock(m_state->source_mutex);
  m_state->connections_source = std::move(source);
}

std::string Metrics::render_prometheus() const {
  const auto& state = *m_state;
  std::string out;
  out.reserve(4096);

  header(out, "mcp_tool_invocations_total", "counter", "Tool calls by tool and outcome.");
  state.tools.for_each([&](const std::string& tool, const ToolSeries& series) {
    sample(out, "mcp_tool_invocations_total", {{"tool", tool}, {"status", "success"}},
           std::to_string(load(series.success)));
    sample(out, "mcp_tool_invocations_total", {{"tool", tool}, {"status", "error"}},
           std::to_string(load(series.failure)));
  });

  header(out, "mcp_tool_duration_seconds", "histogram", "Tool call duration in seconds.");
  state.tools.for_each([&](const std::string& tool, const ToolSeries& series) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= k_bucket_count; ++i) {
      cumulative += load(series.buckets[i]);
      sample(out, "mcp_tool_duration_seconds_bucket", {{"tool", tool}, {"le", bucket_label(i)}},
             std::to_string(cumulative));
    }
    sample(out, "mcp_tool_duration_seconds_sum", {{"tool", tool}},
           format_sample_value(static_cast<double>(load(series.sum_nanoseconds)) / 1e9));
    sample(out, "mcp_tool_duration_seconds_count", {{"tool", tool}}, std::to_string(cumulative));
  });

  header(out, "mcp_auth_failures_total", "counter", "Refused authentication attempts by reason.");
  state.auth_failures.for_each([&](const std::string& reason, const Counter& counter) {
    sample(out, "mcp_auth_failures_total", {{"reason", reason}},
           std::to_string(load(counter.value)));
  });

  header(out, "mcp_overload_rejections_total", "counter",
         "Requests refused with 503 because a pool's queue was full, by pool.");
  state.overload_rejections.for_each([&](const std::string& pool, const Counter& counter) {
    sample(out, "mcp_overload_rejections_total", {{"pool", pool}},
           std::to_string(load(counter.value)));
  });

  header(out, "mcp_active_sessions", "gauge", "MCP sessions currently open.");
  sample(out, "mcp_active_sessions", {},
         std::to_string(state.active_sessions.load(std::memory_order_relaxed)));
  header(out, "mcp_requests_total", "counter", "Total HTTP requests processed.");
  sample(out, "mcp_requests_total", {}, std::to_string(load(state.requests)));
  header(out, "mcp_errors_total", "counter", "Total HTTP requests answered with an error.");
  sample(out, "mcp_errors_total", {}, std::to_string(load(state.errors)));
  header(out, "mcp_rate_limit_clients", "gauge", "Clients currently tracked by the rate limiter.");
  sample(out, "mcp_rate_limit_clients", {}, std::to_string(state.rate_limit_clients_now()));
  header(out, "mcp_http_connections_refused_total", "counter",
         "HTTP connections refused because the server was at its connection cap.");
  sample(out, "mcp_http_connections_refused_total", {},
         std::to_string(load(state.connections_refused)));
  if (const auto open = state.http_connections_now()) {
    header(out, "mcp_http_connections", "gauge", "HTTP connections currently open.");
    sample(out, "mcp_http_connections", {}, std::to_string(*open));
  }

  const auto process = sample_process();
  for (const auto& metric : k_process_metrics) {
    const auto& value = process.*metric.field;
    if (!value) continue;
    header(out, metric.name, metric.type, metric.help);
    sample(out, metric.name, {}, format_sample_value(*value));
  }
  return out;
}

json Metrics::render_json() const {
  const auto& state = *m_state;
  json out = json::object();

  auto invocations = json::array();
  auto durations = json::array();
  state.tools.for_each([&](const std::string& tool, const ToolSeries& series) {
    invocations.push_back(
        {{"labels", {{"tool", tool}, {"status", "success"}}}, {"value", load(series.success)}});
    invocations.push_back(
        {{"labels", {{"tool", tool}, {"status", "error"}}}, {"value", load(series.failure)}});
    auto buckets = json::object();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= k_bucket_count; ++i) {
      cumulative += load(series.buckets[i]);
      buckets[bucket_label(i)] = cumulative;
    }
    durations.push_back({{"labels", {{"tool", tool}}},
                         {"buckets", std::move(buckets)},
                         {"sum", static_cast<double>(load(series.sum_nanoseconds)) / 1e9},
                         {"count", cumulative}});
  });
  out["mcp_tool_invocations_total"] = std::move(invocations);
  out["mcp_tool_duration_seconds"] = std::move(durations);

  auto failures = json::array();
  state.auth_failures.for_each([&](const std::string& reason, const Counter& counter) {
    failures.push_back({{"labels", {{"reason", reason}}}, {"value", load(counter.value)}});
  });
  out["mcp_auth_failures_total"] = std::move(failures);

  auto rejections = json::array();
  state.overload_rejections.for_each([&](const std::string& pool, const Counter& counter) {
    rejections.push_back({{"labels", {{"pool", pool}}}, {"value", load(counter.value)}});
  });
  out["mcp_overload_rejections_total"] = std::move(rejections);

  out["mcp_active_sessions"] = state.active_sessions.load(std::memory_order_relaxed);
  out["mcp_requests_total"] = load(state.requests);
  out["mcp_errors_total"] = load(state.errors);
  out["mcp_rate_limit_clients"] = state.rate_limit_clients_now();
  out["mcp_http_connections_refused_total"] = load(state.connections_refused);
  if (const auto open = state.http_connections_now()) out["mcp_http_connections"] = *open;

  const auto process = sample_process();
  for (const auto& metric : k_process_metrics) {
    if (const auto& value = process.*metric.field) out[metric.name] = *value;
  }
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The q of one media range ("type/subtype;param=x;q=0.5"); 1 when absent, 0 when unreadable.
double quality(std::string_view params) {
  while (!params.empty()) {
    const auto semicolon = params.find(';');
    const auto param = trim(params.substr(0, semicolon));
    params =
        semicolon == std::string_view::npos ? std::string_view{} : params.substr(semicolon + 1);
    if (param.size() < 2 || !iequals(param.substr(0, 2), "q=")) continue;
    const auto text = param.substr(2);
    double q = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
    if (ec != std::errc{} || end != text.data() + text.size() || !(q >= 0) || q > 1) return 0;
    return q;
  }
  return 1;
}

}  // namespace

bool wants_json_metrics(std::string_view accept) {
  double json_q = 0;
  double text_q = 0;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    const auto range = trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    const auto semicolon = range.find(';');
    const auto type = trim(range.substr(0, semicolon));
    const double q =
        semicolon == std::string_view::npos ? 1.0 : quality(range.substr(semicolon + 1));
    if (iequals(type, "application/json")) {
      json_q = std::max(json_q, q);
    } else if (iequals(type, "text/plain") || iequals(type, "application/openmetrics-text")) {
      text_q = std::max(text_q, q);
    }
  }
  return json_q > 0 && json_q > text_q;
}

namespace {
// The exposition format escapes backslash and newline everywhere, and '"' in label values.
std::string escape_exposition(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out.push_back(c);
  }
  return out;
}
}  // namespace

std::string escape_label_value(std::string_view value) {
  return escape_exposition(value, true);
}

std::string escape_help(std::string_view help) {
  return escape_exposition(help, false);
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc{}) return "NaN";
  return std::string(buffer, end);
}

std::string sanitize_label_value(std::string_view value, std::size_t max_bytes) {
  static constexpr std::string_view k_replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(value.size(), max_bytes));
  while (!value.empty()) {
    const auto length = utf8_sequence_length(value);
    const auto piece = length == 0 ? k_replacement : value.substr(0, length);
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    value.remove_prefix(length == 0 ? 1 : length);
  }
  return out;
}

}  // namespace mcpd::core
