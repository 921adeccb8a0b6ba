#include "core/observability/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <pthread.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "core/util/utf8.hpp"

namespace mcpd::core::log {

namespace {

thread_local const std::string* t_correlation_id = nullptr;  // bound by a CorrelationScope

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

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// "2025-01-31T12:00:00.123Z". The date part changes once a second: each thread keeps its last.
void append_iso_utc(spdlog::log_clock::time_point time, spdlog::memory_buf_t& dest) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  thread_local std::time_t cached_second = -1;
  thread_local std::array<char, 24> cached{};
  thread_local std::size_t cached_size = 0;
  const std::time_t t = seconds.count();
  if (t != cached_second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    cached_size = std::strftime(cached.data(), cached.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = t;
  }
  dest.append(cached.data(), cached.data() + cached_size);
  const char ms[] = {'.', static_cast<char>('0' + millis / 100),
                     static_cast<char>('0' + millis / 10 % 10),
                     static_cast<char>('0' + millis % 10), 'Z'};
  dest.append(ms, ms + sizeof ms);
}

// A JSON string literal; invalid UTF-8 becomes U+FFFD (a log line must never fail).
void append_json_string(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char k_hex[] = "0123456789abcdef";
  dest.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text.substr(i));
      if (length == 0) {
        static constexpr std::string_view k_replacement = "\xEF\xBF\xBD";
        append(dest, k_replacement);
        ++i;
      } else {
        dest.append(text.data() + i, text.data() + i + length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        append(dest, "\\\"");
        break;
      case '\\':
        append(dest, "\\\\");
        break;
      case '\n':
        append(dest, "\\n");
        break;
      case '\r':
        append(dest, "\\r");
        break;
      case '\t':
        append(dest, "\\t");
        break;
      default:
        if (c < 0x20) {
          const char escaped[] = {'\\', 'u', '0', '0', k_hex[c >> 4], k_hex[c & 0xf]};
          dest.append(escaped, escaped + sizeof escaped);
        } else {
          dest.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  dest.push_back('"');
}

// Writes the line straight into spdlog's buffer: the service logs a line per tool call, and a
// JSON document built per line (a map, its strings, a dump) would be an allocation storm.
class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string version, std::string environment) {
    // The constant tail of every line, escaped once.
    spdlog::memory_buf_t tail;
    append(tail, ",\"service\":\"mcpd\",\"version\":");
    append_json_string(version, tail);
    append(tail, ",\"environment\":");
    append_json_string(environment, tail);
    append(tail, ",\"correlation_id\":");
    m_tail.assign(tail.data(), tail.size());
    m_version = std::move(version);
    m_environment = std::move(environment);
  }

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    append(dest, "{\"timestamp\":\"");
    append_iso_utc(msg.time, dest);
    append(dest, "\",\"level\":\"");
    append(dest, level_name(msg.level));
    append(dest, "\",\"logger\":");
    append_json_string(std::string_view(msg.logger_name.data(), msg.logger_name.size()), dest);
    append(dest, ",\"message\":");
    append_json_string(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    append(dest, m_tail);
    if (t_correlation_id)
      append_json_string(*t_correlation_id, dest);
    else
      append(dest, "null");
    append(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(m_version, m_environment);
  }

 private:
  std::string m_version;
  std::string m_environment;
  std::string m_tail;
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

// Standard error, formatted outside any lock. While serving HTTP (set_batching) lines below
// warn are written off the hot path: appended to a pending buffer that one writer thread
// ("mcpd-log") writes out in whole-line batches. A line per tool call cost every request a
// write(2) of its own, 7% of the server's CPU under load. A producer wakes the writer only when
// it is idle; after each batch the writer pauses 1 ms to let the next one gather, so under
// load it writes at most 1,000 times a second and producers wait on nothing but the short
// append. A line is out within about a millisecond. Warnings and errors, flush(), a full
// buffer (a blocked stderr) or a writer that could not start write synchronously instead,
// after everything already pending, so the order of lines is kept and a warning is on the
// terminal (or in the journal) when the call returns. The writer drains what is pending when
// the sink is destroyed at exit. (spdlog's stderr_sink_mt would format and write under one
// mutex and flush after every line.) The JSON formatter is stateless; spdlog's pattern
// formatter (text, for terminals) caches the time and is used under a mutex.
class StderrSink final : public spdlog::sinks::sink {
 public:
  ~StderrSink() override {
    {
      std::lock_guard lock(m_queue_mutex);
      m_stopping = true;
    }
    m_wake.notify_one();
    if (m_writer.joinable()) m_writer.join();
    flush();
  }

  void log(const spdlog::details::log_msg& msg) override {
    thread_local spdlog::memory_buf_t line;
    line.clear();
    const Current* current = m_current.load(std::memory_order_acquire);
    if (current->thread_safe) {
      current->formatter->format(msg, line);
    } else {
      std::lock_guard lock(m_format_mutex);
      current->formatter->format(msg, line);
    }
    if (msg.level < spdlog::level::warn && m_batching.load(std::memory_order_acquire)) {
      std::unique_lock lock(m_queue_mutex);
      if (m_pending.size() + line.size() <= k_max_pending) {
        m_pending.append(line.data(), line.size());
        if (m_writer_idle) {
          m_writer_idle = false;
          lock.unlock();
          m_wake.notify_one();
        }
        return;
      }
    }
    std::lock_guard write_lock(m_write_mutex);
    drain();
    write_all(line.data(), line.size());
  }
  void flush() override {
    std::lock_guard write_lock(m_write_mutex);
    drain();
  }
  // Not thread-safe against itself (log::set_batching serializes it). Batching starts only
  // once the writer runs: without a thread to be had, lines stay synchronous.
  void set_batching(bool on) {
    if (on && !m_writer.joinable()) {
      try {
        m_writer = std::thread([this] { run_writer(); });
      } catch (const std::system_error&) {
        return;
      }
    }
    m_batching.store(on, std::memory_order_release);
    if (!on) flush();
  }
  void set_pattern(const std::string& pattern) override {
    set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    const bool thread_safe = dynamic_cast<const JsonFormatter*>(formatter.get()) != nullptr;
    std::lock_guard lock(m_format_mutex);
    m_formatters.push_back(
        std::make_unique<const Current>(Current{std::move(formatter), thread_safe}));
    m_current.store(m_formatters.back().get(), std::memory_order_release);
  }

 private:
  struct Current {
    std::unique_ptr<spdlog::formatter> formatter;
    bool thread_safe;
  };
  // Every formatter ever set lives as long as the sink (a handful: setup runs once or twice),
  // so a line reads the current one with a plain atomic load; an atomic<shared_ptr> would take
  // a lock bit and a reference count that every logging thread writes.
  std::vector<std::unique_ptr<const Current>> m_formatters = initial_formatters();
  std::atomic<const Current*> m_current{m_formatters.back().get()};
  std::mutex m_format_mutex;

  // Past this much pending output (stderr not keeping up), lines are written synchronously.
  static constexpr std::size_t k_max_pending = 4 << 20;
  static constexpr std::chrono::milliseconds k_batch_interval{1};
  std::mutex m_queue_mutex;  // guards the three below
  std::string m_pending;     // whole lines not yet handed to write(2)
  bool m_writer_idle = false;
  bool m_stopping = false;
  std::condition_variable m_wake;
  std::mutex m_write_mutex;  // held while a batch is written: batches go out in order
  std::string m_batch;       // the batch being written (under m_write_mutex)
  std::atomic<bool> m_batching{false};  // true only while m_writer runs
  std::thread m_writer;                 // started by the first set_batching(true)

  void run_writer() {
    pthread_setname_np(pthread_self(), "mcpd-log");
    std::unique_lock lock(m_queue_mutex);
    for (;;) {
      while (m_pending.empty() && !m_stopping) {
        m_writer_idle = true;
        m_wake.wait(lock);
      }
      m_writer_idle = false;
      if (m_pending.empty()) return;  // stopping, and everything is out
      lock.unlock();
      {
        std::lock_guard write_lock(m_write_mutex);
        drain();
      }
      // Lets the next batch gather: while the writer is not idle nobody wakes it, so under
      // load it writes at most k_batch_interval apart and costs the producers no wake-ups.
      // Only stopping cuts the pause short (a process exits without waiting for it).
      lock.lock();
      m_wake.wait_for(lock, k_batch_interval, [this] { return m_stopping; });
    }
  }

  // Writes everything pending. Caller holds m_write_mutex.
  void drain() {
    {
      std::lock_guard lock(m_queue_mutex);
      if (m_pending.empty()) return;
      m_batch.swap(m_pending);  // both keep their capacity: no allocation in steady state
    }
    write_all(m_batch.data(), m_batch.size());
    m_batch.clear();
  }

  static void write_all(const char* data, std::size_t left) {
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to report it
      data += n;
      left -= static_cast<std::size_t>(n);
    }
  }

  static std::vector<std::unique_ptr<const Current>> initial_formatters() {
    std::vector<std::unique_ptr<const Current>> formatters;
    formatters.push_back(std::make_unique<const Current>(
        Current{std::make_unique<spdlog::pattern_formatter>(), false}));
    return formatters;
  }
};

std::shared_ptr<StderrSink> stderr_sink() {
  static auto sink = std::make_shared<StderrSink>();
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

void set_batching(bool on) {
  const std::lock_guard lock(g_setup_mutex);
  stderr_sink()->set_batching(on);
}

void flush() {
  stderr_sink()->flush();
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  const std::lock_guard lock(g_setup_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, stderr_sink());
  spdlog::initialize_logger(logger);  // registry's formatter and level
  return logger;
}

CorrelationScope::CorrelationScope(const std::string& id) : m_previous(t_correlation_id) {
  t_correlation_id = &id;
}

CorrelationScope::CorrelationScope(std::string&& id)
    : m_owned(std::move(id)), m_previous(t_correlation_id) {
  t_correlation_id = &m_owned;
}

CorrelationScope::~CorrelationScope() {
  t_correlation_id = m_previous;
}

const std::string* correlation_id() noexcept {
  return t_correlation_id;
}

std::optional<std::uint64_t> Sampler::admit() {
  const auto now = m_clock();
  std::lock_guard lock(m_mutex);
  if (now - m_window >= std::chrono::seconds(1)) {
    m_window = now;
    m_in_window = 0;
  }
  if (m_in_window >= m_per_second) {
    ++m_held_back;
    return std::nullopt;
  }
  ++m_in_window;
  return std::exchange(m_held_back, 0);
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
