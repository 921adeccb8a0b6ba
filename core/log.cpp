#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

namespace mcpd::core::log {

namespace {

thread_local std::optional<std::string> t_correlation_id;

// Python's logging level names, as the seed's JSON formatter emits them.
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARNING";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRITICAL";
    default:
      return "OFF";
  }
}

std::string iso_utc(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = seconds.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::array<char, 8> ms{};
  std::snprintf(ms.data(), ms.size(), ".%03dZ", static_cast<int>(millis));
  return std::string(buffer.data(), n) + ms.data();
}

class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string version, std::string environment)
      : m_version(std::move(version)), m_environment(std::move(environment)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["timestamp"] = iso_utc(msg.time);
    line["level"] = level_name(msg.level);
    line["logger"] = std::string_view(msg.logger_name.data(), msg.logger_name.size());
    line["message"] = std::string_view(msg.payload.data(), msg.payload.size());
    line["service"] = "mcpd";
    line["version"] = m_version;
    line["environment"] = m_environment;
    if (t_correlation_id)
      line["correlation_id"] = *t_correlation_id;
    else
      line["correlation_id"] = nullptr;
    // Invalid UTF-8 in a message must not throw inside the logger.
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(m_version, m_environment);
  }

 private:
  std::string m_version;
  std::string m_environment;
};

// %* in the text pattern: " [cid=…]" while a correlation id is bound.
class CorrelationFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (!t_correlation_id) return;
    static constexpr std::string_view k_prefix = " [cid=";
    dest.append(k_prefix.data(), k_prefix.data() + k_prefix.size());
    dest.append(t_correlation_id->data(), t_correlation_id->data() + t_correlation_id->size());
    dest.push_back(']');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<CorrelationFlag>();
  }
};

std::mutex g_setup_mutex;

std::shared_ptr<spdlog::sinks::stderr_sink_mt> stderr_sink() {
  static auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
  std::string level(text);
  std::transform(level.begin(), level.end(), level.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn" || level == "warning") return spdlog::level::warn;
  if (level == "error" || level == "err") return spdlog::level::err;
  if (level == "critical" || level == "fatal") return spdlog::level::critical;
  if (level == "off") return spdlog::level::off;
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::text;
  if (text == "json") return Format::json;
  return std::nullopt;
}

std::unique_ptr<spdlog::formatter> make_json_formatter(std::string version,
                                                       std::string environment) {
  return std::make_unique<JsonFormatter>(std::move(version), std::move(environment));
}

std::unique_ptr<spdlog::formatter> make_text_formatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<CorrelationFlag>('*').set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %n: %v%*");
  return formatter;
}

void setup(const Options& options) {
  const std::lock_guard lock(g_setup_mutex);
  auto sink = stderr_sink();
  auto current = spdlog::default_logger();
  if (!current || current->name() != "mcpd" || current->sinks().size() != 1 ||
      current->sinks().front() != sink) {
    auto logger = std::make_shared<spdlog::logger>("mcpd", sink);
    spdlog::set_default_logger(logger);
  }
  // Applies to every registered logger and to those created later by get().
  spdlog::set_formatter(options.format == Format::json
                            ? make_json_formatter(options.version, options.environment)
                            : make_text_formatter());
  spdlog::set_level(parse_level(options.level).value_or(spdlog::level::info));
  // Warnings and errors reach the terminal (or journal) promptly.
  spdlog::flush_on(spdlog::level::warn);
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  const std::lock_guard lock(g_setup_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, stderr_sink());
  spdlog::initialize_logger(logger);  // registry's formatter and level
  return logger;
}

CorrelationScope::CorrelationScope(std::string id) : m_previous(std::move(t_correlation_id)) {
  t_correlation_id = std::move(id);
}

CorrelationScope::~CorrelationScope() {
  t_correlation_id = std::move(m_previous);
}

const std::string* correlation_id() noexcept {
  return t_correlation_id ? &*t_correlation_id : nullptr;
}

std::string new_correlation_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (std::size_t i = 0; i < id.size(); i += 16) {
    std::uint64_t bits = generator();
    for (std::size_t j = 0; j < 16; ++j, bits >>= 4) id[i + j] = k_hex[bits & 0xf];
  }
  return id;
}

}  // namespace mcpd::core::log
