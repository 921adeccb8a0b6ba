#include "core/observability/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mcpd::core {

namespace {

std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> to_number(std::string_view text) {
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return static_cast<double>(value);
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto start = text.find_first_not_of(" \n", pos);
    if (start == std::string_view::npos) break;
    auto end = text.find_first_of(" \n", start);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    pos = end;
  }
  return fields;
}

// Counts /proc/self/fd entries, leaving out the descriptor used to list the directory.
std::optional<double> count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  const std::string own = std::to_string(::dirfd(dir));
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name == own) continue;
    ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace

void parse_proc_stat(std::string_view stat, long ticks_per_second, long page_size,
                     std::optional<double> boot_time, ProcessSample& out) {
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return;
  const auto fields = split_spaces(stat.substr(close + 1));
  // fields[0] is field 3 (state) of proc(5); field n is fields[n - 3].
  const auto field = [&](std::size_t n) -> std::optional<double> {
    if (n - 3 >= fields.size()) return std::nullopt;
    return to_number(fields[n - 3]);
  };
  const auto ticks = static_cast<double>(ticks_per_second);
  const auto utime = field(14);
  const auto stime = field(15);
  if (utime && stime) out.cpu_seconds = (*utime + *stime) / ticks;
  if (const auto start = field(22); start && boot_time) {
    out.start_time_seconds = *boot_time + *start / ticks;
  }
  if (const auto vsize = field(23)) out.virtual_bytes = *vsize;
  if (const auto rss = field(24); rss && page_size > 0) {
    out.resident_bytes = *rss * static_cast<double>(page_size);
  }
}

std::optional<double> parse_boot_time(std::string_view proc_stat) {
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    auto end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    const auto line = proc_stat.substr(pos, end - pos);
    if (line.starts_with("btime ")) {
      const auto fields = split_spaces(line);
      if (fields.size() == 2) return to_number(fields[1]);
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

ProcessSample sample_process() {
  ProcessSample sample;
  try {
    std::optional<double> boot_time;
    if (const auto proc_stat = read_file("/proc/stat")) boot_time = parse_boot_time(*proc_stat);
    if (const auto stat = read_file("/proc/self/stat")) {
      parse_proc_stat(*stat, ::sysconf(_SC_CLK_TCK), ::sysconf(_SC_PAGESIZE), boot_time, sample);
    }
    sample.open_fds = count_open_fds();
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      sample.max_fds = static_cast<double>(limit.rlim_cur);
    }
  } catch (...) {
    // A metrics scrape must never take the server down; report what we have.
  }
  return sample;
}

}  // namespace mcpd::core
