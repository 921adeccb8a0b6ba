#include "core/handlers/scratch.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "core/handlers/exec.hpp"

namespace mcpd::core {

namespace {

namespace fs = std::filesystem;

// Scratch directories of running calls, by inode, so that a sweep never removes the
// directory of a call that simply ran (or sat idle) for longer than the maximum age.
class ActiveDirs {
 public:
  using Key = std::pair<dev_t, ino_t>;
  void add(Key key) {
    std::lock_guard lock(m_mutex);
    m_keys.insert(key);
  }
  void remove(Key key) {
    std::lock_guard lock(m_mutex);
    m_keys.erase(key);
  }
  bool contains(Key key) const {
    std::lock_guard lock(m_mutex);
    return m_keys.count(key) != 0;
  }

 private:
  mutable std::mutex m_mutex;
  std::set<Key> m_keys;
};

ActiveDirs& active_dirs() {
  static ActiveDirs dirs;
  return dirs;
}

// Call directories are spread over a few shard directories (<root>/s0 .. s7, by thread):
// creating or removing an entry locks its parent directory, and with every call in one
// directory concurrent exec calls queued on that lock.
constexpr std::size_t k_shards = 8;

bool is_shard_name(const std::string& name) {
  return name.size() == 2 && name[0] == 's' && name[1] >= '0' &&
         name[1] < static_cast<char>('0' + k_shards);
}

fs::path shard_of_this_thread(const fs::path& root) {
  const std::size_t shard = std::hash<std::thread::id>{}(std::this_thread::get_id()) % k_shards;
  return root / ("s" + std::to_string(shard));
}

std::string errno_text(int error) {
  char buffer[256];
  return strerror_r(error, buffer, sizeof buffer);
}

// Creates the root 0700 when missing; refuses a root that is a symlink, not ours, or
// writable by others (somebody else could then swap our directories).
std::string prepare_root(const fs::path& root) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    if (errno != ENOENT) return "'" + root.string() + "': " + errno_text(errno);
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return "cannot create '" + root.string() + "': " + ec.message();
    if (::chmod(root.c_str(), 0700) != 0) return "'" + root.string() + "': " + errno_text(errno);
    if (::lstat(root.c_str(), &st) != 0) return "'" + root.string() + "': " + errno_text(errno);
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
    return "scratch root '" + root.string() +
           "' must be a directory owned by this user and writable only by it";
  }
  return {};
}

}  // namespace

std::variant<ScratchDir, std::string> ScratchDir::create(const fs::path& root) {
  if (root.empty()) return std::string("no scratch root configured");
  if (auto problem = prepare_root(root); !problem.empty()) return problem;
  const fs::path shard = shard_of_this_thread(root);
  if (auto problem = prepare_root(shard); !problem.empty()) return problem;
  std::string templ = (shard / "call-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return "cannot create a scratch directory in '" + shard.string() + "': " + errno_text(errno);
  }
  struct stat st {};
  if (::lstat(templ.c_str(), &st) == 0) active_dirs().add({st.st_dev, st.st_ino});
  return ScratchDir(fs::path(templ));
}

ScratchDir::ScratchDir(ScratchDir&& other) noexcept : m_path(std::move(other.m_path)) {
  other.m_path.clear();
}

ScratchDir::~ScratchDir() {
  if (m_path.empty()) return;
  struct stat st {};
  const bool known = ::lstat(m_path.c_str(), &st) == 0;
  std::error_code ec;
  fs::remove_all(m_path, ec);
  if (ec) spdlog::warn("cannot remove scratch directory '{}': {}", m_path.string(), ec.message());
  if (known) active_dirs().remove({st.st_dev, st.st_ino});
}

namespace {

// Removes the entries of `dir` older than `cutoff` that no running call uses; shard
// directories of the root are never removed themselves, only swept (one level down).
std::size_t sweep_entries(const fs::path& dir, std::time_t cutoff, bool is_root) {
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path entry = it->path();
    struct stat st {};
    // lstat: the age of a symlink is its own; remove_all removes links, never their targets.
    if (::lstat(entry.c_str(), &st) != 0) continue;
    if (is_root && S_ISDIR(st.st_mode) && is_shard_name(entry.filename().string())) {
      removed += sweep_entries(entry, cutoff, false);
      continue;
    }
    if (st.st_mtime >= cutoff) continue;
    if (active_dirs().contains({st.st_dev, st.st_ino})) continue;
    std::error_code remove_ec;
    fs::remove_all(entry, remove_ec);
    if (remove_ec) {
      spdlog::warn("scratch sweep: cannot remove '{}': {}", entry.string(), remove_ec.message());
    } else {
      ++removed;
    }
  }
  if (ec) spdlog::warn("scratch sweep of '{}': {}", dir.string(), ec.message());
  return removed;
}

}  // namespace

std::size_t sweep_scratch(const fs::path& root, std::chrono::seconds max_age) {
  struct stat root_st {};
  if (::lstat(root.c_str(), &root_st) != 0 || !S_ISDIR(root_st.st_mode)) return 0;
  const std::time_t cutoff = std::time(nullptr) - static_cast<std::time_t>(max_age.count());
  return sweep_entries(root, cutoff, true);
}

}  // namespace mcpd::core
