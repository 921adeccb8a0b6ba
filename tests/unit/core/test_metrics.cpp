#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "core/observability/metrics.hpp"
#include "core/observability/process_metrics.hpp"

using namespace mcpd::core;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

const json* series_with(const json& family, const json& labels) {
  for (const auto& series : family) {
    if (series["labels"] == labels) return &series;
  }
  return nullptr;
}

// A registry with some of everything, as a running server would have.
void populate(Metrics& metrics) {
  metrics.declare_tools({"echo", "slow", "never_called"});
  metrics.tool_called("echo", false, 0.003);
  metrics.tool_called("echo", false, 0.2);
  metrics.tool_called("echo", true, 0.005);
  metrics.tool_called("slow", false, 42.0);
  metrics.tool_called("we\"ird\\na\nme", false, 0.1);
  metrics.auth_failure("unknown");
  metrics.auth_failure("unknown");
  metrics.auth_failure("malformed");
  for (int i = 0; i < 5; ++i) metrics.request();
  metrics.error();
  metrics.add_active_sessions(3);
  metrics.add_active_sessions(-1);
  metrics.set_rate_limit_clients(7);
  metrics.overload_rejection("workers");
  metrics.overload_rejection("workers");
}

// Checks the exposition text the way a Prometheus parser reads it: every sample belongs to a
// family announced by HELP and TYPE, values parse, histogram buckets are cumulative and end
// with +Inf equal to _count. Returns the TYPE of each family.
std::map<std::string, std::string> check_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex sample_line(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? ([^ ]+))");
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  std::map<std::string, double> last_bucket;  // per histogram series (labels without le)
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  for (const auto& line : lines_of(text)) {
    INFO(line);
    std::smatch m;
    if (line.starts_with("# HELP")) {
      REQUIRE(std::regex_match(line, m, help));
      REQUIRE(helped.insert(m[1]).second);
    } else if (line.starts_with("# TYPE")) {
      REQUIRE(std::regex_match(line, m, type));
      REQUIRE(helped.count(m[1]) == 1);
      REQUIRE(types.emplace(m[1], m[2]).second);
    } else {
      REQUIRE(std::regex_match(line, m, sample_line));
      std::string name = m[1];
      const std::string value = m[5];
      CHECK((value == "+Inf" || value == "NaN" || std::isfinite(std::stod(value))));
      std::string family = name;
      for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        const auto base = name.substr(0, name.size() - std::min(name.size(), suffix.size()));
        if (name.ends_with(suffix) && types.count(base) && types[base] == "histogram") {
          family = base;
        }
      }
      REQUIRE(types.count(family) == 1);
      if (types[family] == "histogram") {
        static const std::regex le(R"(,?le="([^"]+)\")");
        std::string labels = m[2];
        std::smatch lm;
        const bool has_le = std::regex_search(labels, lm, le);
        const std::string key = family + std::regex_replace(labels, le, "");
        if (name.ends_with("_bucket")) {
          REQUIRE(has_le);
          const double count = std::stod(value);
          if (last_bucket.count(key)) CHECK(count >= last_bucket[key]);
          last_bucket[key] = count;
          if (lm[1] == "+Inf") last_bucket[key + "+Inf"] = count;
        } else if (name.ends_with("_count")) {
          REQUIRE(last_bucket.count(key + "+Inf") == 1);
          CHECK(std::stod(value) == last_bucket[key + "+Inf"]);
        }
      }
    }
  }
  return types;
}

}  // namespace

TEST_CASE("counters and gauges count what they are told", "[core][metrics]") {
  Metrics metrics;
  populate(metrics);
  const auto j = metrics.render_json();
  CHECK(j["mcp_requests_total"] == 5);
  CHECK(j["mcp_errors_total"] == 1);
  CHECK(j["mcp_active_sessions"] == 2);
  CHECK(j["mcp_rate_limit_clients"] == 7);

  const auto* workers = series_with(j["mcp_overload_rejections_total"], {{"pool", "workers"}});
  REQUIRE(workers != nullptr);
  CHECK((*workers)["value"] == 2);
  // Both pools are exposed before they ever refuse anything.
  const auto* auxiliary = series_with(j["mcp_overload_rejections_total"], {{"pool", "auxiliary"}});
  REQUIRE(auxiliary != nullptr);
  CHECK((*auxiliary)["value"] == 0);

  const auto* unknown = series_with(j["mcp_auth_failures_total"], {{"reason", "unknown"}});
  REQUIRE(unknown != nullptr);
  CHECK((*unknown)["value"] == 2);
  // Known reasons are exposed before they ever happen.
  const auto* revoked = series_with(j["mcp_auth_failures_total"], {{"reason", "revoked"}});
  REQUIRE(revoked != nullptr);
  CHECK((*revoked)["value"] == 0);

  const auto* echo_ok =
      series_with(j["mcp_tool_invocations_total"], {{"tool", "echo"}, {"status", "success"}});
  const auto* echo_err =
      series_with(j["mcp_tool_invocations_total"], {{"tool", "echo"}, {"status", "error"}});
  const auto* idle = series_with(j["mcp_tool_invocations_total"],
                                 {{"tool", "never_called"}, {"status", "success"}});
  REQUIRE(echo_ok != nullptr);
  REQUIRE(echo_err != nullptr);
  REQUIRE(idle != nullptr);
  CHECK((*echo_ok)["value"] == 2);
  CHECK((*echo_err)["value"] == 1);
  CHECK((*idle)["value"] == 0);

  metrics.set_active_sessions(0);
  CHECK(metrics.render_json()["mcp_active_sessions"] == 0);
}

TEST_CASE("durations land in cumulative buckets", "[core][metrics]") {
  Metrics metrics;
  populate(metrics);
  const auto j = metrics.render_json();
  const auto* echo = series_with(j["mcp_tool_duration_seconds"], {{"tool", "echo"}});
  REQUIRE(echo != nullptr);
  const auto& b = (*echo)["buckets"];
  CHECK(b.size() == Metrics::k_duration_buckets.size() + 1);
  CHECK(b["0.005"] == 2);  // 0.003 and exactly 0.005 (le is inclusive)
  CHECK(b["0.01"] == 2);
  CHECK(b["0.1"] == 2);
  CHECK(b["0.25"] == 3);
  CHECK(b["10"] == 3);
  CHECK(b["+Inf"] == 3);
  CHECK((*echo)["count"] == 3);
  CHECK((*echo)["sum"].get<double>() == Approx(0.208));

  const auto* slow = series_with(j["mcp_tool_duration_seconds"], {{"tool", "slow"}});
  REQUIRE(slow != nullptr);
  CHECK((*slow)["buckets"]["10"] == 0);
  CHECK((*slow)["buckets"]["+Inf"] == 1);
  CHECK((*slow)["sum"].get<double>() == Approx(42.0));

  // The seed's buckets are all there.
  for (const char* le : {"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}) {
    CHECK(b.contains(le));
  }
}

TEST_CASE("nonsense durations do not corrupt the histogram", "[core][metrics]") {
  Metrics metrics;
  metrics.tool_called("t", false, -1.0);
  metrics.tool_called("t", false, std::nan(""));
  metrics.tool_called("t", false, 1e300);
  const auto j = metrics.render_json();
  const auto& series = j["mcp_tool_duration_seconds"][0];
  CHECK(series["buckets"]["0.005"] == 2);
  CHECK(series["buckets"]["+Inf"] == 3);
  CHECK(std::isfinite(series["sum"].get<double>()));
}

TEST_CASE("the text exposition has the exact names, types and samples", "[core][metrics]") {
  Metrics metrics;
  populate(metrics);
  const auto text = metrics.render_prometheus();
  const auto types = check_exposition(text);

  CHECK(types.at("mcp_tool_invocations_total") == "counter");
  CHECK(types.at("mcp_tool_duration_seconds") == "histogram");
  CHECK(types.at("mcp_auth_failures_total") == "counter");
  CHECK(types.at("mcp_active_sessions") == "gauge");
  CHECK(types.at("mcp_requests_total") == "counter");
  CHECK(types.at("mcp_errors_total") == "counter");
  CHECK(types.at("mcp_rate_limit_clients") == "gauge");
  CHECK(types.at("mcp_overload_rejections_total") == "counter");
  CHECK(types.at("process_cpu_seconds_total") == "counter");
  for (const char* gauge : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                            "process_start_time_seconds", "process_open_fds", "process_max_fds"}) {
    CHECK(types.at(gauge) == "gauge");
  }

  CHECK(has_line(text, R"(mcp_tool_invocations_total{tool="echo",status="success"} 2)"));
  CHECK(has_line(text, R"(mcp_tool_invocations_total{tool="echo",status="error"} 1)"));
  CHECK(has_line(text, R"(mcp_tool_duration_seconds_bucket{tool="echo",le="0.005"} 2)"));
  CHECK(has_line(text, R"(mcp_tool_duration_seconds_bucket{tool="echo",le="2.5"} 3)"));
  CHECK(has_line(text, R"(mcp_tool_duration_seconds_bucket{tool="echo",le="+Inf"} 3)"));
  CHECK(has_line(text, R"(mcp_tool_duration_seconds_count{tool="echo"} 3)"));
  CHECK(has_line(text, R"(mcp_tool_duration_seconds_sum{tool="slow"} 42)"));
  CHECK(has_line(text, R"(mcp_auth_failures_total{reason="malformed"} 1)"));
  CHECK(has_line(text, "mcp_requests_total 5"));
  CHECK(has_line(text, "mcp_errors_total 1"));
  CHECK(has_line(text, "mcp_active_sessions 2"));
  CHECK(has_line(text, "mcp_rate_limit_clients 7"));
  CHECK(has_line(text, R"(mcp_overload_rejections_total{pool="workers"} 2)"));
  CHECK(has_line(text, R"(mcp_overload_rejections_total{pool="auxiliary"} 0)"));
  CHECK(has_line(text, "# TYPE mcp_tool_duration_seconds histogram"));
  // Quote, backslash and newline in a label value are escaped.
  CHECK(has_line(text, R"(mcp_tool_invocations_total{tool="we\"ird\\na\nme",status="success"} 1)"));
}

TEST_CASE("an empty registry still renders valid exposition", "[core][metrics]") {
  Metrics metrics;
  const auto text = metrics.render_prometheus();
  check_exposition(text);
  CHECK(has_line(text, "mcp_requests_total 0"));
  CHECK(has_line(text, "# TYPE mcp_tool_invocations_total counter"));
}

TEST_CASE("label sets are capped", "[core][metrics]") {
  Metrics::Limits limits;
  limits.max_tools = 2;
  limits.max_auth_reasons = Metrics::known_auth_reasons().size() + 1;
  Metrics metrics(limits);
  metrics.declare_tools({"a", "b", "c"});  // declared tools always get their own series
  for (int i = 0; i < 50; ++i) metrics.tool_called("random_" + std::to_string(i), false, 0.01);
  metrics.tool_called("a", false, 0.01);
  for (int i = 0; i < 5; ++i) metrics.auth_failure("jwt_" + std::to_string(i));

  const auto j = metrics.render_json();
  const auto& tools = j["mcp_tool_duration_seconds"];
  CHECK(tools.size() == 4);  // a, b, c and the overflow series
  const auto* other = series_with(tools, {{"tool", std::string(Metrics::k_overflow_label)}});
  REQUIRE(other != nullptr);
  CHECK((*other)["count"] == 50);
  CHECK((*series_with(tools, {{"tool", "a"}}))["count"] == 1);

  const auto& reasons = j["mcp_auth_failures_total"];
  CHECK(reasons.size() == Metrics::known_auth_reasons().size() + 2);
  const auto* first = series_with(reasons, {{"reason", "jwt_0"}});
  REQUIRE(first != nullptr);
  CHECK((*first)["value"] == 1);
  const auto* rest = series_with(reasons, {{"reason", std::string(Metrics::k_overflow_label)}});
  REQUIRE(rest != nullptr);
  CHECK((*rest)["value"] == 4);
}

TEST_CASE("registries made one after another on one thread each count their own",
          "[core][metrics]") {
  // A thread remembers the series it found in each registry; a new registry (even at the
  // address of a dead one) must never see them. More registries than a thread remembers, too.
  for (int round = 0; round < 40; ++round) {
    auto metrics = std::make_unique<Metrics>();
    metrics->tool_called("echo", false, 0.01);
    metrics->tool_called("echo", round % 2 == 0, 0.01);
    metrics->auth_failure("unknown");
    const auto j = metrics->render_json();
    CHECK((*series_with(j["mcp_tool_duration_seconds"], {{"tool", "echo"}}))["count"] == 2);
    CHECK((*series_with(j["mcp_auth_failures_total"], {{"reason", "unknown"}}))["value"] == 1);
  }
}

TEST_CASE("label values are valid, bounded UTF-8", "[core][metrics]") {
  CHECK(sanitize_label_value("plain", 128) == "plain");
  CHECK(sanitize_label_value("h\xC3\xA9llo", 128) == "h\xC3\xA9llo");
  CHECK(sanitize_label_value("a\xFF"
                             "b",
                             128) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(sanitize_label_value("\xC0\xAF", 128) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(sanitize_label_value("\xED\xA0\x80", 128) ==
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(sanitize_label_value("abc\xE2\x82", 128) == "abc\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(sanitize_label_value("\xF0\x9F\x98\x80", 4) == "\xF0\x9F\x98\x80");
  CHECK(sanitize_label_value("x\xF0\x9F\x98\x80", 4) == "x");  // never cut inside a character
  CHECK(sanitize_label_value(std::string(1000, 'a'), 128).size() == 128);

  Metrics metrics;
  metrics.tool_called("bad\xFFname", false, 0.01);
  const auto j = metrics.render_json();
  CHECK(j["mcp_tool_duration_seconds"][0]["labels"]["tool"] == "bad\xEF\xBF\xBDname");
  CHECK_NOTHROW(j.dump());
  // Later calls with the same raw name reach the same series.
  metrics.tool_called("bad\xFFname", true, 0.01);
  CHECK(metrics.render_json()["mcp_tool_duration_seconds"][0]["count"] == 2);
}

TEST_CASE("text format escaping and numbers", "[core][metrics]") {
  CHECK(escape_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(escape_help("x\\y\nz \"q\"") == "x\\\\y\\nz \"q\"");
  CHECK(format_sample_value(0) == "0");
  CHECK(format_sample_value(42) == "42");
  CHECK(format_sample_value(0.25) == "0.25");
  CHECK(format_sample_value(1.5e-9) == "1.5e-09");
  CHECK(format_sample_value(1e300) == "1e+300");
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_sample_value(std::nan("")) == "NaN");
}

TEST_CASE("JSON only when the client prefers it", "[core][metrics]") {
  CHECK(wants_json_metrics("application/json"));
  CHECK(wants_json_metrics("Application/JSON; charset=utf-8"));
  CHECK(wants_json_metrics("text/plain;q=0.5, application/json"));
  CHECK(wants_json_metrics("application/json;q=0.9,text/plain;q=0.1"));
  CHECK_FALSE(wants_json_metrics(""));
  CHECK_FALSE(wants_json_metrics("*/*"));
  CHECK_FALSE(wants_json_metrics("text/plain"));
  CHECK_FALSE(wants_json_metrics("application/json, text/plain"));  // a tie keeps the default
  CHECK_FALSE(wants_json_metrics("application/json;q=0"));
  CHECK_FALSE(wants_json_metrics("application/json;q=banana"));
  // What Prometheus itself sends.
  CHECK_FALSE(wants_json_metrics(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
}

TEST_CASE("the rate limit gauge reads its source at render time", "[core][metrics]") {
  Metrics metrics;
  std::size_t clients = 3;
  metrics.set_rate_limit_clients_source([&] { return clients; });
  CHECK(metrics.render_json()["mcp_rate_limit_clients"] == 3);
  clients = 11;
  CHECK(has_line(metrics.render_prometheus(), "mcp_rate_limit_clients 11"));
  metrics.set_rate_limit_clients_source([]() -> std::size_t { throw std::runtime_error("x"); });
  metrics.set_rate_limit_clients(4);
  CHECK(metrics.render_json()["mcp_rate_limit_clients"] == 4);
}

TEST_CASE("HTTP connections: refusals counted, the open gauge read from its source", "[core][metrics]") {
  Metrics metrics;
  CHECK(has_line(metrics.render_prometheus(), "mcp_http_connections_refused_total 0"));
  CHECK_FALSE(metrics.render_json().contains("mcp_http_connections"));
  metrics.connection_refused();
  metrics.connection_refused();
  std::size_t open = 12;
  metrics.set_http_connections_source([&] { return open; });
  const auto text = metrics.render_prometheus();
  CHECK(has_line(text, "mcp_http_connections_refused_total 2"));
  CHECK(has_line(text, "# TYPE mcp_http_connections gauge"));
  CHECK(has_line(text, "mcp_http_connections 12"));
  open = 5;
  CHECK(metrics.render_json()["mcp_http_connections"] == 5);
  CHECK(metrics.render_json()["mcp_http_connections_refused_total"] == 2);
  metrics.set_http_connections_source(nullptr);
  CHECK_FALSE(has_line(metrics.render_prometheus(), "mcp_http_connections 5"));
}

TEST_CASE("concurrent updates are not lost", "[core][metrics]") {
  Metrics metrics;
  auto& observer = static_cast<CallObserver&>(metrics);
  constexpr int k_threads = 4;
  constexpr int k_calls = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < k_calls; ++i) {
        observer.tool_called("tool_" + std::to_string(i % 7), (i + t) % 3 == 0, 0.001 * (i % 50));
        metrics.request();
        if (i % 100 == 0) (void)metrics.render_prometheus();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto j = metrics.render_json();
  CHECK(j["mcp_requests_total"] == k_threads * k_calls);
  std::uint64_t calls = 0;
  for (const auto& series : j["mcp_tool_invocations_total"]) calls += series["value"].get<int>();
  CHECK(calls == k_threads * k_calls);
  std::uint64_t observed = 0;
  for (const auto& series : j["mcp_tool_duration_seconds"]) observed += series["count"].get<int>();
  CHECK(observed == k_threads * k_calls);
  CHECK(j["mcp_tool_duration_seconds"].size() == 7);
}

TEST_CASE("/proc/self/stat is parsed field by field", "[core][metrics][process]") {
  // The command name may contain spaces and parentheses.
  const std::string stat =
      "4242 (we ir) (d) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 150 0 0 20 0 3 0 "
      "10000 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcessSample sample;
  parse_proc_stat(stat, 100, 4096, 1700000000.0, sample);
  REQUIRE(sample.cpu_seconds);
  CHECK(*sample.cpu_seconds == Approx(4.0));
  REQUIRE(sample.start_time_seconds);
  CHECK(*sample.start_time_seconds == Approx(1700000100.0));
  REQUIRE(sample.virtual_bytes);
  CHECK(*sample.virtual_bytes == 123456789.0);
  REQUIRE(sample.resident_bytes);
  CHECK(*sample.resident_bytes == 2048.0 * 4096.0);

  ProcessSample truncated;
  parse_proc_stat("1 (x) S 1 2", 100, 4096, std::nullopt, truncated);
  CHECK(!truncated.cpu_seconds);
  CHECK(!truncated.resident_bytes);

  CHECK(parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n") == 1700000000.0);
  CHECK(!parse_boot_time("cpu 1 2 3\n"));
}

TEST_CASE("this process's numbers are plausible", "[core][metrics][process]") {
  const auto sample = sample_process();
  REQUIRE(sample.cpu_seconds);
  CHECK(*sample.cpu_seconds >= 0);
  REQUIRE(sample.resident_bytes);
  CHECK(*sample.resident_bytes > 0);
  REQUIRE(sample.virtual_bytes);
  CHECK(*sample.virtual_bytes >= *sample.resident_bytes);
  REQUIRE(sample.open_fds);
  REQUIRE(sample.max_fds);
  CHECK(*sample.open_fds >= 1);  // stdin/stdout/stderr, unless closed by the runner
  CHECK(*sample.open_fds <= *sample.max_fds);

  // Opening a file shows up in process_open_fds.
  const auto before = *sample_process().open_fds;
  std::ifstream self("/proc/self/stat");
  REQUIRE(self.is_open());
  CHECK(*sample_process().open_fds == before + 1);

  REQUIRE(sample.start_time_seconds);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(*sample.start_time_seconds <= now + 5);
  CHECK(*sample.start_time_seconds >= now - 24 * 3600);
}

// Writes a populated exposition to $MCPD_METRICS_SAMPLE for `promtool check metrics` (hidden:
// run by the CTest check that invokes promtool, not with the other unit tests).
TEST_CASE("write a metrics sample for promtool", "[.][promtool]") {
  const char* path = std::getenv("MCPD_METRICS_SAMPLE");
  REQUIRE(path != nullptr);
  Metrics metrics;
  populate(metrics);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE(out.is_open());
  out << metrics.render_prometheus();
  out.close();
  REQUIRE(out.good());
}
