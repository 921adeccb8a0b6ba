#pragma once
// Per-call scratch directories for exec handlers: <root>/s<N>/call-XXXXXX (a few shard
// directories, so concurrent calls do not queue on one parent directory's lock), mode 0700,
// removed when the call ends. The sweep (sweep_scratch in exec.hpp) skips directories in use.

#include <filesystem>
#include <string>
#include <variant>

namespace mcpd::core {

class ScratchDir {
 public:
  // Creates the root (0700) on demand, then a fresh directory inside it. On failure returns
  // the reason; never throws.
  static std::variant<ScratchDir, std::string> create(const std::filesystem::path& root);

  ScratchDir(ScratchDir&& other) noexcept;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // Removes the directory recursively; errors are logged, not thrown.
  ~ScratchDir();

  const std::filesystem::path& path() const noexcept { return m_path; }

 private:
  explicit ScratchDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

}  // namespace mcpd::core
