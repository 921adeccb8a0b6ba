#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "core/observability/log.hpp"

namespace mlog = mcpd::core::log;
using nlohmann::json;

namespace {

// A logger writing to a string stream through the given formatter.
struct Captured {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  explicit Captured(std::unique_ptr<spdlog::formatter> formatter, const std::string& name = "t") {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    sink->set_formatter(std::move(formatter));
    logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::trace);
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
};

// Redirects fd `fd` to a temporary file for the scope; text() reads what was written.
class FdCapture {
 public:
  explicit FdCapture(int fd) : m_fd(fd), m_file(std::tmpfile()) {
    std::fflush(nullptr);
    m_saved = ::dup(fd);
    ::dup2(::fileno(m_file), fd);
  }
  ~FdCapture() {
    restore();
    std::fclose(m_file);
  }
  void restore() {
    if (m_saved < 0) return;
    std::fflush(nullptr);
    ::dup2(m_saved, m_fd);
    ::close(m_saved);
    m_saved = -1;
  }
  std::string text() {
    restore();
    std::rewind(m_file);
    std::string result;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, m_file)) > 0;)
      result.append(buffer, n);
    return result;
  }

 private:
  int m_fd;
  std::FILE* m_file;
  int m_saved = -1;
};

}  // namespace

TEST_CASE("json lines carry every field", "[core][log]") {
  Captured c(mlog::make_json_formatter("1.2.3", "staging"), "exec");
  c.logger->warn("tool {} failed: \"quoted\"\nsecond line", "deploy");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 1);  // the newline in the message stays escaped inside one line
  const json line = json::parse(lines[0]);
  CHECK(line["level"] == "WARNING");
  CHECK(line["logger"] == "exec");
  CHECK(line["message"] == "tool deploy failed: \"quoted\"\nsecond line");
  CHECK(line["service"] == "mcpd");
  CHECK(line["version"] == "1.2.3");
  CHECK(line["environment"] == "staging");
  CHECK(line["correlation_id"].is_null());
  const std::regex iso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  CHECK(std::regex_match(line["timestamp"].get<std::string>(), iso));
  // Field order as documented, for people reading raw lines.
  CHECK(lines[0].rfind("{\"timestamp\":", 0) == 0);
}

TEST_CASE("json lines survive invalid UTF-8 in a message", "[core][log]") {
  Captured c(mlog::make_json_formatter("1", "dev"));
  c.logger->info("bytes: \xff\xfe end");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 1);
  CHECK(json::parse(lines[0])["message"].get<std::string>().find("end") != std::string::npos);
}

TEST_CASE("level names", "[core][log]") {
  Captured c(mlog::make_json_formatter("1", "dev"));
  c.logger->trace("a");
  c.logger->debug("b");
  c.logger->info("c");
  c.logger->error("d");
  c.logger->critical("e");
  std::vector<std::string> levels;
  for (const auto& line : c.lines()) levels.push_back(json::parse(line)["level"]);
  CHECK(levels == std::vector<std::string>{"TRACE", "DEBUG", "INFO", "ERROR", "CRITICAL"});
}

TEST_CASE("a correlation scope tags every line logged on its thread", "[core][log]") {
  Captured c(mlog::make_json_formatter("1", "dev"));
  CHECK(mlog::correlation_id() == nullptr);
  {
    const mlog::CorrelationScope outer("req-1");
    c.logger->info("one");
    {
      const mlog::CorrelationScope inner("req-2");
      c.logger->info("two");
      REQUIRE(mlog::correlation_id() != nullptr);
      CHECK(*mlog::correlation_id() == "req-2");
    }
    c.logger->info("three");
    // Another thread has its own (empty) scope.
    std::thread([&] { c.logger->info("other thread"); }).join();
  }
  c.logger->info("four");
  const auto lines = c.lines();
  REQUIRE(lines.size() == 5);
  CHECK(json::parse(lines[0])["correlation_id"] == "req-1");
  CHECK(json::parse(lines[1])["correlation_id"] == "req-2");
  CHECK(json::parse(lines[2])["correlation_id"] == "req-1");
  CHECK(json::parse(lines[3])["correlation_id"].is_null());
  CHECK(json::parse(lines[4])["correlation_id"].is_null());
  CHECK(mlog::correlation_id() == nullptr);
}

TEST_CASE("text lines show the correlation id when there is one", "[core][log]") {
  Captured c(mlog::make_text_formatter(), "stdio");
  c.logger->info("plain");
  {
    const mlog::CorrelationScope scope("abc123");
    c.logger->info("tagged");
  }
  const auto lines = c.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("[info] stdio: plain") != std::string::npos);
  CHECK(lines[0].find("cid=") == std::string::npos);
  CHECK(lines[1].find("[info] stdio: tagged [cid=abc123]") != std::string::npos);
}

TEST_CASE("new correlation ids are distinct hex strings", "[core][log]") {
  const auto a = mlog::new_correlation_id();
  const auto b = mlog::new_correlation_id();
  CHECK(a != b);
  CHECK(std::regex_match(a, std::regex("[0-9a-f]{32}")));
}

TEST_CASE("level and format names", "[core][log]") {
  CHECK(mlog::parse_level("warning") == spdlog::level::warn);
  CHECK(mlog::parse_level("WARN") == spdlog::level::warn);
  CHECK(mlog::parse_level("Info") == spdlog::level::info);
  CHECK(mlog::parse_level("critical") == spdlog::level::critical);
  CHECK(mlog::parse_level("off") == spdlog::level::off);
  CHECK_FALSE(mlog::parse_level("loud"));
  CHECK(mlog::parse_format("json") == mlog::Format::json);
  CHECK(mlog::parse_format("text") == mlog::Format::text);
  CHECK_FALSE(mlog::parse_format("xml"));
}

TEST_CASE("setup logs to stderr only, at the chosen level", "[core][log]") {
  FdCapture out(STDOUT_FILENO);
  FdCapture err(STDERR_FILENO);
  mlog::setup({"info", mlog::Format::json, "9.9.9", "test"});
  spdlog::debug("hidden");
  spdlog::info("from the default logger");
  mlog::get("stdio")->warn("from a named logger");
  spdlog::default_logger()->flush();
  mlog::get("stdio")->flush();
  const std::string out_text = out.text();
  const std::string err_text = err.text();
  CHECK(out_text.empty());
  std::vector<json> lines;
  std::istringstream in(err_text);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["logger"] == "mcpd");
  CHECK(lines[0]["message"] == "from the default logger");
  CHECK(lines[0]["version"] == "9.9.9");
  CHECK(lines[1]["logger"] == "stdio");
  CHECK(lines[1]["level"] == "WARNING");

  // Switching format and level applies to loggers that already exist.
  FdCapture err2(STDERR_FILENO);
  mlog::setup({"debug", mlog::Format::text, "9.9.9", "test"});
  mlog::get("stdio")->debug("now visible");
  mlog::get("stdio")->flush();
  CHECK(err2.text().find("[debug] stdio: now visible") != std::string::npos);
}

TEST_CASE("a sampler lets a few lines a second through and counts the rest", "[core][log]") {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  mcpd::core::log::Sampler sampler(3, [&now] { return now; });
  for (int i = 0; i < 3; ++i) CHECK(sampler.admit() == std::optional<std::uint64_t>(0));
  for (int i = 0; i < 5; ++i) CHECK_FALSE(sampler.admit());
  now += std::chrono::milliseconds(999);
  CHECK_FALSE(sampler.admit());
  // A new second: the first line through says how many were held back.
  now += std::chrono::milliseconds(1);
  CHECK(sampler.admit() == std::optional<std::uint64_t>(6));
  CHECK(sampler.admit() == std::optional<std::uint64_t>(0));
  now += std::chrono::seconds(5);
  CHECK(sampler.admit() == std::optional<std::uint64_t>(0));
}

// Lines below warn go out through the writer thread in batches; warnings and flush() write
// synchronously after whatever is pending. Every line arrives whole, once, in each thread's
// order, and nothing logged before a warning comes after it.
TEST_CASE("stderr lines from many threads arrive whole, in order, and a warning drains them",
          "[core][log][concurrency]") {
  FdCapture err(STDERR_FILENO);
  mlog::setup({"info", mlog::Format::json, "9.9.9", "test"});
  mlog::set_batching(true);
  constexpr int k_threads = 4, k_lines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < k_lines; ++i) spdlog::info("thread {} line {}", t, i);
    });
  }
  for (auto& thread : threads) thread.join();
  spdlog::warn("after all of them");  // no flush(): a warning drains what is pending first
  const std::string text = err.text();
  mlog::set_batching(false);
  std::vector<int> next(k_threads, 0);
  std::istringstream in(text);
  int count = 0;
  std::string last;
  for (std::string line; std::getline(in, line); ++count) {
    const json parsed = json::parse(line);  // throws on a torn line
    last = parsed["message"];
    int t = -1, i = -1;
    if (std::sscanf(last.c_str(), "thread %d line %d", &t, &i) != 2) continue;
    REQUIRE(t >= 0);
    REQUIRE(t < k_threads);
    CHECK(i == next[t]);
    next[t] = i + 1;
  }
  CHECK(count == k_threads * k_lines + 1);
  CHECK(last == "after all of them");
  for (int t = 0; t < k_threads; ++t) CHECK(next[t] == k_lines);
}

TEST_CASE("info lines reach stderr without a flush", "[core][log]") {
  FdCapture err(STDERR_FILENO);
  mlog::setup({"info", mlog::Format::json, "9.9.9", "test"});
  // Reads the capture file directly (text() would restore stderr) until `what` appears.
  const auto appears = [](const std::string& what) {
    for (int i = 0; i < 3000; ++i) {
      std::ifstream file("/proc/self/fd/" + std::to_string(STDERR_FILENO));
      const std::string content((std::istreambuf_iterator<char>(file)), {});
      if (content.find(what) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  // The second line finds the writer asleep: it must be woken.
  mlog::set_batching(true);
  spdlog::info("first line for the writer");
  CHECK(appears("first line for the writer"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  spdlog::info("second line for the writer");
  CHECK(appears("second line for the writer"));
  mlog::set_batching(false);
}

// Outside serving (a command's own output is interleaved with its lines) a line is on stderr
// when the call returns.
TEST_CASE("without batching an info line is written at once", "[core][log]") {
  FdCapture err(STDERR_FILENO);
  mlog::setup({"info", mlog::Format::json, "9.9.9", "test"});
  spdlog::info("written by the caller");
  std::ifstream file("/proc/self/fd/" + std::to_string(STDERR_FILENO));
  const std::string content((std::istreambuf_iterator<char>(file)), {});
  CHECK(content.find("written by the caller") != std::string::npos);
}
