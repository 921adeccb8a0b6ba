#pragma once
// The standard process_* metrics of Prometheus client libraries, read from /proc on Linux.
// Each field is optional: what cannot be read is left out of the exposition rather than
// reported as 0.

#include <optional>
#include <string_view>

namespace mcpd::core {

struct ProcessSample {
  std::optional<double> cpu_seconds;         // process_cpu_seconds_total (user + system)
  std::optional<double> resident_bytes;      // process_resident_memory_bytes
  std::optional<double> virtual_bytes;       // process_virtual_memory_bytes
  std::optional<double> start_time_seconds;  // process_start_time_seconds (Unix time)
  std::optional<double> open_fds;            // process_open_fds
  std::optional<double> max_fds;             // process_max_fds (soft RLIMIT_NOFILE)
};

// Reads the calling process's numbers now. Never throws.
ProcessSample sample_process();

// The pieces of sample_process() that parse /proc text, exposed for tests.
// `stat` is /proc/self/stat; `boot_time` is btime from /proc/stat (Unix seconds).
void parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                     std::optional<double> boot_time, ProcessSample& out);
// The btime line of /proc/stat.
std::optional<double> parse_boot_time(std::string_view proc_stat);

}  // namespace mcpd::core
