#include "core/handlers/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace mcpd::core {

namespace {

// Without a pidfd, how often the exit of the leader is checked.
constexpr std::chrono::milliseconds k_exit_tick{20};

std::string errno_text(int error) {
  char buffer[256];
  // GNU strerror_r: returns a pointer to the message (thread-safe, unlike strerror).
  return strerror_r(error, buffer, sizeof buffer);
}

// Keeps a pipe end away from 0-2, so the dup2 file actions cannot clobber each other even
// when the daemon runs with a standard descriptor closed.
UniqueFd lift_fd(int fd) {
  if (fd >= 3) return UniqueFd(fd);
  UniqueFd low(fd);
  return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 3));
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

std::optional<Pipe> make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  Pipe pipe{lift_fd(fds[0]), lift_fd(fds[1])};
  if (!pipe.read.valid() || !pipe.write.valid()) return std::nullopt;
  return pipe;
}

bool set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// RAII for the posix_spawn attribute objects.
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

struct SpawnAttributes {
  posix_spawnattr_t attributes;
  SpawnAttributes() { posix_spawnattr_init(&attributes); }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes); }
};

// New process group; empty signal mask and default dispositions (the daemon may block or
// ignore SIGPIPE, SIGTERM, ... and the child must not inherit that).
int configure_attributes(posix_spawnattr_t& attributes) {
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (int rc = posix_spawnattr_setflags(&attributes, flags)) return rc;
  if (int rc = posix_spawnattr_setpgroup(&attributes, 0)) return rc;
  if (int rc = posix_spawnattr_setsigmask(&attributes, &none)) return rc;
  return posix_spawnattr_setsigdefault(&attributes, &all);
}

int configure_file_actions(posix_spawn_file_actions_t& actions, const Pipe& in, const Pipe& out,
                           const Pipe& err, const std::filesystem::path& cwd) {
  if (int rc = posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0)) return rc;
  if (int rc = posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1)) return rc;
  if (int rc = posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2)) return rc;
  // Whatever the daemon holds without O_CLOEXEC (it should be nothing) stays with it.
  if (int rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3)) return rc;
  if (!cwd.empty()) return posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  return 0;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (const auto& s : strings) result.push_back(const_cast<char*>(s.c_str()));
  result.push_back(nullptr);
  return result;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    m_fd = other.release();
  }
  return *this;
}

int UniqueFd::release() noexcept {
  return std::exchange(m_fd, -1);
}

void UniqueFd::reset() noexcept {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

std::variant<ChildProcess, std::string> ChildProcess::spawn(const SpawnRequest& request) {
  if (request.argv.empty() || request.argv.front().empty()) return std::string("empty command");
  auto in = make_pipe();
  auto out = make_pipe();
  auto err = make_pipe();
  if (!in || !out || !err) return "cannot create pipes: " + errno_text(errno);
  if (!set_nonblocking(in->write.get()) || !set_nonblocking(out->read.get()) ||
      !set_nonblocking(err->read.get())) {
    return "cannot configure pipes: " + errno_text(errno);
  }

  FileActions actions;
  SpawnAttributes attributes;
  if (int rc = configure_file_actions(actions.actions, *in, *out, *err, request.cwd)) {
    return errno_text(rc);
  }
  if (int rc = configure_attributes(attributes.attributes)) return errno_text(rc);

  auto argv = c_strings(request.argv);
  auto envp = c_strings(request.env);
  pid_t pid = -1;
  const bool has_slash = request.argv.front().find('/') != std::string::npos;
  // glibc reports exec failures (ENOENT, EACCES, a bad cwd) as the return value.
  int rc = has_slash ? posix_spawn(&pid, argv[0], &actions.actions, &attributes.attributes,
                                   argv.data(), envp.data())
                     : posix_spawnp(&pid, argv[0], &actions.actions, &attributes.attributes,
                                    argv.data(), envp.data());
  if (rc != 0) return errno_text(rc);

  ChildProcess child;
  child.m_pid = pid;
  // glibc 2.36's pidfd_open lacks C linkage in C++; the raw syscall is the same thing. -1 on
  // kernels without pidfds: has_exited() is then polled on a tick.
  child.m_pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  child.m_stdin = std::move(in->write);
  child.m_stdout = std::move(out->read);
  child.m_stderr = std::move(err->read);
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_reaped(std::exchange(other.m_reaped, true)),
      m_status(other.m_status),
      m_pidfd(std::move(other.m_pidfd)),
      m_stdin(std::move(other.m_stdin)),
      m_stdout(std::move(other.m_stdout)),
      m_stderr(std::move(other.m_stderr)) {}

ChildProcess::~ChildProcess() {
  if (m_pid > 0 && !m_reaped) kill_and_reap();
}

void ChildProcess::signal_group(int signal) noexcept {
  if (m_pid <= 0 || m_reaped) return;
  ::kill(-m_pid, signal);
  ::kill(m_pid, signal);
}

bool ChildProcess::has_exited() noexcept {
  if (m_pid <= 0 || m_reaped) return true;
  siginfo_t info{};
  info.si_pid = 0;
  if (waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno != EINTR;  // ECHILD: somebody else reaped it (SIGCHLD ignored)
  }
  return info.si_pid != 0;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!has_exited()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (m_pidfd.valid()) {
      pollfd fd{m_pidfd.get(), POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(left.count()) + 1);
    } else {
      ::poll(nullptr, 0, static_cast<int>(std::min(left, k_exit_tick).count()));
    }
  }
  return true;
}

ExitStatus ChildProcess::kill_and_reap() noexcept {
  if (m_pid <= 0 || m_reaped) return m_status;
  signal_group(SIGKILL);
  int status = 0;
  pid_t rc;
  do {
    rc = waitpid(m_pid, &status, 0);
  } while (rc < 0 && errno == EINTR);
  m_reaped = true;
  m_pidfd.reset();
  if (rc < 0) {
    m_status = ExitStatus{false, -1};  // reaped elsewhere: the status is lost
  } else if (WIFSIGNALED(status)) {
    m_status = ExitStatus{true, WTERMSIG(status)};
  } else {
    m_status = ExitStatus{false, WEXITSTATUS(status)};
  }
  return m_status;
}

ssize_t write_no_sigpipe(int fd, const char* data, std::size_t size) noexcept {
  // Block SIGPIPE for this thread, and swallow the one our write raises (unless one was
  // already pending for another reason).
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;

  ssize_t written = ::write(fd, data, size);
  const int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE && !was_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return written;
}

}  // namespace mcpd::core
