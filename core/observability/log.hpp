#pragma once
// Logging: spdlog, to stderr only (stdout belongs to the protocol on stdio). Two formats:
//   text  "2025-01-31 12:00:00.123 [info] mcpd: message [cid=…]" for terminals;
//   json  one object per line: timestamp (ISO-8601 UTC, ms), level, logger, message,
//         service ("mcpd"), version, environment, correlation_id (null when none).
// A correlation id is bound to the current thread by a CorrelationScope, so every line
// logged while a request is handled carries it without passing it around.
//
// Never log secrets: tokens, API keys, Authorization headers, JWTs.

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::core::log {

enum class Format { text, json };

struct Options {
  std::string level = "info";  // trace, debug, info, warn/warning, error, critical, off
  Format format = Format::text;
  std::string version = MCPD_VERSION;
  std::string environment = "production";
};

// Accepts spdlog level names plus "warning" and "fatal" (any case).
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);
std::optional<Format> parse_format(std::string_view text);

// Points every logger (and the default logger "mcpd") at one stderr sink with the chosen
// format and level. Safe to call more than once.
void setup(const Options& options);

// Off by default, so a command's lines come out in order with whatever else it prints. On
// while serving HTTP: lines below warn are then written in batches by a writer thread (mcpd-log),
// about a millisecond later, so a line per request costs no write(2) of its own. Warnings and
// errors are always written at once, after whatever is pending.
void set_batching(bool on);
// Writes out every pending line: call before writing to stderr other than through a logger.
void flush();

// A named logger ("stdio", "exec", …) sharing the default logger's sink and format.
std::shared_ptr<spdlog::logger> get(const std::string& name);

// The formatter behind Format::json, exposed for tests.
std::unique_ptr<spdlog::formatter> make_json_formatter(std::string version,
                                                       std::string environment);
std::unique_ptr<spdlog::formatter> make_text_formatter();

// Binds a correlation id to this thread for the scope's lifetime; scopes nest. A named string
// is borrowed, not copied (a request binds its id at every hop): it must outlive the scope. A
// temporary is kept by the scope.
class CorrelationScope {
 public:
  explicit CorrelationScope(const std::string& id);
  explicit CorrelationScope(std::string&& id);
  ~CorrelationScope();
  CorrelationScope(const CorrelationScope&) = delete;
  CorrelationScope& operator=(const CorrelationScope&) = delete;

 private:
  std::string m_owned;
  const std::string* m_previous;
};

// Keeps a line that can repeat without bound (one per failed request, say) to at most
// `per_second` a second: admit() says whether to log this one and, when so, how many were
// held back since the last one logged (for that line to say). Thread-safe.
class Sampler {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  explicit Sampler(std::uint32_t per_second, Clock clock = &std::chrono::steady_clock::now)
      : m_per_second(per_second), m_clock(std::move(clock)) {}

  // nullopt: do not log; otherwise log, noting the count of lines held back when it is not 0.
  std::optional<std::uint64_t> admit();

 private:
  const std::uint32_t m_per_second;
  const Clock m_clock;
  std::mutex m_mutex;
  std::chrono::steady_clock::time_point m_window{};
  std::uint32_t m_in_window = 0;
  std::uint64_t m_held_back = 0;
};

// The current thread's correlation id, or nullptr.
const std::string* correlation_id() noexcept;
// A fresh random id (32 hex characters, like a UUID without dashes).
std::string new_correlation_id();

}  // namespace mcpd::core::log
