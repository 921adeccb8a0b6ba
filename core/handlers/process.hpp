#pragma once
// A child process for the exec handler: spawned with posix_spawn (never fork without exec in
// a threaded daemon), leader of its own process group, with non-blocking pipes on our side.
// The leader is never reaped before its group has been killed, so the group id cannot be
// reused by an unrelated process while we may still signal it.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mcpd::core {

// An owned file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return m_fd; }
  bool valid() const noexcept { return m_fd >= 0; }
  int release() noexcept;
  void reset() noexcept;

 private:
  int m_fd = -1;
};

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] without '/' is looked up on PATH
  std::vector<std::string> env;   // "NAME=value", the child's whole environment
  std::filesystem::path cwd;      // empty: inherit
};

// How a reaped child ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit status, or the signal number when signaled
};

class ChildProcess {
 public:
  // Spawns the child; on failure returns the errno-style reason (e.g. "No such file or
  // directory"), never throws for system errors.
  static std::variant<ChildProcess, std::string> spawn(const SpawnRequest& request);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills the group and reaps the leader if that has not happened yet.
  ~ChildProcess();

  pid_t pid() const noexcept { return m_pid; }
  UniqueFd& stdin_fd() noexcept { return m_stdin; }
  UniqueFd& stdout_fd() noexcept { return m_stdout; }
  UniqueFd& stderr_fd() noexcept { return m_stderr; }
  // Readable once the leader has exited (a pidfd); -1 when the kernel has none: poll
  // has_exited() on a short tick instead.
  int exit_fd() const noexcept { return m_pidfd.get(); }

  // Sends `signal` to the whole group (and to the leader, in case it left the group).
  void signal_group(int signal) noexcept;
  // True once the leader has exited; does not reap it.
  bool has_exited() noexcept;
  // Waits up to `timeout` for the leader to exit (without reaping). Returns has_exited().
  bool wait_exit(std::chrono::milliseconds timeout) noexcept;
  // SIGKILLs the group, then reaps the leader. Idempotent; returns how the leader ended.
  ExitStatus kill_and_reap() noexcept;

 private:
  ChildProcess() = default;

  pid_t m_pid = -1;
  bool m_reaped = false;
  ExitStatus m_status;
  UniqueFd m_pidfd;
  UniqueFd m_stdin;
  UniqueFd m_stdout;
  UniqueFd m_stderr;
};

// write(2) that turns a closed reader into EPIPE instead of a SIGPIPE for the daemon.
ssize_t write_no_sigpipe(int fd, const char* data, std::size_t size) noexcept;

}  // namespace mcpd::core
