#include "core/handlers/exec.hpp"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/descriptors/placeholders.hpp"
#include "core/handlers/exec_output.hpp"
#include "core/handlers/exec_relay.hpp"
#include "core/handlers/process.hpp"
#include "core/handlers/scratch.hpp"

namespace mcpd::core {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After the child exits (or prints its final mcp result): how long descendants may keep
// the pipes open or the child may take to exit before the group is killed.
constexpr milliseconds k_exit_linger{500};
// Without a pidfd, how often the exit of the child is checked.
constexpr milliseconds k_exit_tick{20};
constexpr std::size_t k_read_chunk = 64 * 1024;

// Parent variables every child gets (when set); anything else only through `env`.
constexpr std::array<const char*, 8> k_inherited_env = {"PATH",     "HOME", "LANG", "LC_ALL",
                                                        "LC_CTYPE", "TZ",   "USER", "LOGNAME"};

json optional_string(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

// The call, as the child reads it from stdin: one JSON line.
std::string call_line(const json& arguments, const CallContext& ctx) {
  json line{{"tool", ctx.name},
            {"arguments", arguments.is_object() ? arguments : json::object()},
            {"context",
             {{"user", optional_string(ctx.identity.user)},
              {"token", optional_string(ctx.identity.token_name)},
              {"correlation_id", ctx.correlation_id},
              {"protocol_version", ctx.protocol_version}}}};
  if (!ctx.traceparent.empty()) line["context"]["traceparent"] = ctx.traceparent;
  if (!ctx.tracestate.empty()) line["context"]["tracestate"] = ctx.tracestate;
  // What the child may ask (mcp output), and the answers a 2026-07-28 retry already brings:
  // the child gets them again when it asks, at once, so it may also skip those questions.
  auto object_or_empty = [](const json& value) {
    return value.is_object() ? value : json::object();
  };
  line["context"]["client_capabilities"] = object_or_empty(ctx.client_capabilities);
  line["context"]["input_responses"] = object_or_empty(ctx.input_responses);
  return line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::vector<std::string> child_environment(const ExecHandlerSpec& spec, const CallContext& ctx,
                                           const fs::path& scratch) {
  std::map<std::string, std::string> env;
  // The child's own environment: named variables inherited from this process (not settings,
  // so they are read here rather than from the settings' snapshot).
  auto inherit = [&env](const std::string& name) {
    if (name.empty() || name.find('=') != std::string::npos) return;
    if (const char* value = std::getenv(name.c_str())) env[name] = value;
  };
  for (const char* name : k_inherited_env) inherit(name);
  for (const auto& name : spec.env) inherit(name);
  env["TMPDIR"] = scratch.string();
  if (ctx.identity.user) env["MCP_USER"] = *ctx.identity.user;
  if (ctx.identity.token_name) env["MCP_TOKEN_NAME"] = *ctx.identity.token_name;
  env["MCP_CORRELATION_ID"] = ctx.correlation_id;
  env["MCP_TOOL"] = ctx.name;
  env["MCP_PROTOCOL_VERSION"] = ctx.protocol_version;
  // OpenTelemetry's environment carriers, so instrumented tools join the caller's trace.
  if (!ctx.traceparent.empty()) env["TRACEPARENT"] = ctx.traceparent;
  if (!ctx.tracestate.empty()) env["TRACESTATE"] = ctx.tracestate;

  std::vector<std::string> result;
  result.reserve(env.size());
  for (const auto& [name, value] : env) result.push_back(name + "=" + value);
  return result;
}

// Placeholders are substituted inside each argv element: a value never splits or joins
// elements, and no shell ever sees it.
std::vector<std::string> child_argv(const ExecHandlerSpec& spec, const fs::path& base_dir,
                                    const json& values) {
  const json& placeholder_values = values.is_object() ? values : json::object();
  std::vector<std::string> argv;
  argv.reserve(spec.command.size());
  for (const auto& element : spec.command)
    argv.push_back(substitute(std::string_view(element), placeholder_values));
  if (!argv.empty() && argv[0].find('/') != std::string::npos && !base_dir.empty() &&
      fs::path(argv[0]).is_relative()) {
    argv[0] = (base_dir / argv[0]).string();
  }
  return argv;
}

fs::path child_cwd(const ExecHandlerSpec& spec, const fs::path& base_dir) {
  if (spec.cwd.empty()) return base_dir;
  return spec.cwd.is_relative() ? base_dir / spec.cwd : spec.cwd;
}

// A clear reason for a bad cwd (posix_spawn would only say ENOENT, like a missing program).
std::optional<std::string> cwd_problem(const fs::path& cwd) {
  if (cwd.empty()) return std::nullopt;
  struct stat st {};
  if (::stat(cwd.c_str(), &st) != 0) {
    return "working directory '" + cwd.string() + "': " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode)) return "working directory '" + cwd.string() + "': not a directory";
  return std::nullopt;
}

// How the poll loop ended. input_required: the child asked a 2026-07-28 caller something it
// has not answered yet; the call ends and the client retries with the answer.
enum class Ending {
  running,
  exited,
  result,
  timeout,
  cancelled,
  too_big,
  bad_output,
  input_required
};

// One running child: feeds its stdin, reads its stdout and stderr, watches the deadline,
// the cancel token and (output "mcp") the answers of relayed requests.
class ExecCall {
 public:
  ExecCall(const ExecHandlerSpec& spec, const ExecSettings& settings, CallContext& ctx,
           ChildProcess& child, std::string input)
      : m_spec(spec),
        m_settings(settings),
        m_ctx(ctx),
        m_child(child),
        m_pending_input(std::move(input)),
        m_deadline(Clock::now() + spec.timeout) {
    if (spec.output == ExecHandlerSpec::Output::mcp) m_relay.emplace(ctx.channel);
  }

  ExecCall(const ExecCall&) = delete;
  ExecCall& operator=(const ExecCall&) = delete;
  // Only reached with the child still running when something threw: kill it before the
  // relay waits for its request in flight.
  ~ExecCall() { m_child.kill_and_reap(); }

  json run() {
    while (m_ending == Ending::running) step();
    return finish();
  }

  const StderrTail& stderr_tail() const { return m_stderr; }

 private:
  bool mcp() const { return m_spec.output == ExecHandlerSpec::Output::mcp; }

  void end(Ending ending, std::string message = {}) {
    if (m_ending != Ending::running) return;
    m_ending = ending;
    m_message = std::move(message);
  }

  void step();
  int poll_timeout(Clock::time_point now) const;
  void read_stdout();
  void read_stderr();
  void write_stdin();
  void take_answers();
  void on_stdout(std::string_view bytes);
  void on_mcp_line(std::string_view line);
  void on_request(McpRequest request);
  void drain_questions();
  void answer_child(const std::string& line);
  void terminate();
  json finish();

  const ExecHandlerSpec& m_spec;
  const ExecSettings& m_settings;
  CallContext& m_ctx;
  ChildProcess& m_child;
  std::string m_pending_input;  // bytes not yet written to the child's stdin
  Clock::time_point m_deadline;
  std::optional<RequestRelay> m_relay;

  std::string m_stdout;  // text/json: all of stdout; mcp: the current partial line
  StderrTail m_stderr;
  std::optional<Clock::time_point> m_exited_at;
  Ending m_ending = Ending::running;
  bool m_awaiting_input = false;  // a question is left for the client's retry
  std::string m_message;          // the error for bad_output
  json m_result;                  // mcp: the final CallToolResult
};

void ExecCall::step() {
  const auto now = Clock::now();
  if (m_ctx.cancel.cancelled()) return end(Ending::cancelled);
  if (now >= m_deadline) return end(Ending::timeout);
  if (!m_exited_at && m_child.has_exited()) m_exited_at = now;
  if (m_exited_at) {
    const bool drained = !m_child.stdout_fd().valid() && !m_child.stderr_fd().valid();
    // Past the linger, descendants still holding the pipes no longer delay the answer.
    if (drained || now - *m_exited_at >= k_exit_linger) return end(Ending::exited);
  }

  enum { k_out, k_err, k_in, k_cancel, k_wake, k_exit, k_count };
  std::array<pollfd, k_count> fds{};
  fds[k_out] = {m_child.stdout_fd().get(), POLLIN, 0};
  fds[k_err] = {m_child.stderr_fd().get(), POLLIN, 0};
  fds[k_in] = {m_pending_input.empty() ? -1 : m_child.stdin_fd().get(), POLLOUT, 0};
  fds[k_cancel] = {m_ctx.cancel.fd(), POLLIN, 0};
  fds[k_wake] = {m_relay ? m_relay->wake_fd() : -1, POLLIN, 0};
  fds[k_exit] = {m_exited_at ? -1 : m_child.exit_fd(), POLLIN, 0};

  const int ready = ::poll(fds.data(), fds.size(), poll_timeout(now));
  if (ready < 0 && errno != EINTR && errno != EAGAIN) {
    spdlog::error("exec {}: poll failed: {}", m_ctx.name, std::strerror(errno));
    return end(Ending::bad_output, "internal error while running the command");
  }
  if (ready <= 0) return;  // timeout or EINTR: the checks above run again
  constexpr short k_readable = POLLIN | POLLHUP | POLLERR;
  if (fds[k_out].revents & k_readable) read_stdout();
  if (m_awaiting_input) drain_questions();
  if (m_ending != Ending::running) return;
  if (fds[k_err].revents & k_readable) read_stderr();
  if (fds[k_wake].revents & POLLIN) take_answers();
  if (fds[k_in].revents & (POLLERR | POLLHUP)) {
    m_child.stdin_fd().reset();  // the child closed its stdin: it reads no more
    m_pending_input.clear();
  } else if (fds[k_in].revents & POLLOUT) {
    write_stdin();
  }
}

int ExecCall::poll_timeout(Clock::time_point now) const {
  auto wait = m_deadline - now;
  if (m_exited_at) wait = std::min<Clock::duration>(wait, *m_exited_at + k_exit_linger - now);
  const bool blind = (!m_exited_at && m_child.exit_fd() < 0) || m_ctx.cancel.fd() < 0;
  if (blind) wait = std::min<Clock::duration>(wait, k_exit_tick);
  // Round up: waking early would only spin.
  auto ms = std::chrono::ceil<milliseconds>(wait).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
}

void ExecCall::read_stdout() {
  char buffer[k_read_chunk];
  const ssize_t n = ::read(m_child.stdout_fd().get(), buffer, sizeof buffer);
  if (n > 0) return on_stdout(std::string_view(buffer, static_cast<std::size_t>(n)));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  m_child.stdout_fd().reset();  // EOF
  if (mcp() && !m_stdout.empty()) {
    // A last line without its newline still counts.
    std::string last = std::exchange(m_stdout, {});
    on_mcp_line(last);
  }
}

void ExecCall::read_stderr() {
  char buffer[k_read_chunk];
  const ssize_t n = ::read(m_child.stderr_fd().get(), buffer, sizeof buffer);
  if (n > 0) return m_stderr.append(std::string_view(buffer, static_cast<std::size_t>(n)));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  m_child.stderr_fd().reset();
}

void ExecCall::write_stdin() {
  const ssize_t n =
      write_no_sigpipe(m_child.stdin_fd().get(), m_pending_input.data(), m_pending_input.size());
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    m_child.stdin_fd().reset();  // EPIPE: a child that does not read its stdin is fine
    m_pending_input.clear();
    return;
  }
  m_pending_input.erase(0, static_cast<std::size_t>(n));
  // text/json children get EOF after the call line; mcp children after their result.
  if (m_pending_input.empty() && !mcp()) m_child.stdin_fd().reset();
}

void ExecCall::take_answers() {
  for (const auto& line : m_relay->take_answers()) answer_child(line);
}

void ExecCall::answer_child(const std::string& line) {
  if (m_child.stdin_fd().valid()) m_pending_input += line;
}

// The cap on stdout: its total in text/json mode, each line in mcp mode (a long-running
// child may stream any number of progress lines).
void ExecCall::on_stdout(std::string_view bytes) {
  auto too_big = [this] {
    end(Ending::too_big, "output exceeds " + std::to_string(m_spec.max_output_bytes) + " bytes");
  };
  m_stdout.append(bytes);
  if (!mcp()) {
    if (m_stdout.size() > m_spec.max_output_bytes) too_big();
    return;
  }
  std::size_t start = 0;
  for (auto newline = m_stdout.find('\n', m_stdout.size() - bytes.size());
       newline != std::string::npos && m_ending == Ending::running;
       newline = m_stdout.find('\n', start)) {
    on_mcp_line(std::string_view(m_stdout).substr(start, newline - start));
    start = newline + 1;
  }
  m_stdout.erase(0, start);
  if (m_stdout.size() > m_spec.max_output_bytes) too_big();
}

void ExecCall::on_mcp_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::visit(
      [this](auto&& parsed) {
        using T = std::decay_t<decltype(parsed)>;
        if constexpr (std::is_same_v<T, McpProgress>) {
          m_ctx.channel.progress(parsed.progress, parsed.total, parsed.message);
        } else if constexpr (std::is_same_v<T, McpLog>) {
          m_ctx.channel.log(parsed.level, parsed.logger, parsed.data);
        } else if constexpr (std::is_same_v<T, McpRequest>) {
          on_request(std::move(parsed));
        } else if constexpr (std::is_same_v<T, McpResult>) {
          m_result = std::move(parsed.result);
          end(Ending::result);
        } else if constexpr (std::is_same_v<T, McpBadLine>) {
          end(Ending::bad_output, std::move(parsed.message));
        }
      },
      parse_mcp_line(line));
}

void ExecCall::on_request(McpRequest request) {
  const json id = request.id;
  // Only the client features MCP defines for servers; a refusal is the child's to handle,
  // not a reason to kill it.
  if (!is_relayable_method(request.method)) {
    answer_child(relay_answer_line(
        id, {{"error", {{"code", -32601}, {"message", "cannot relay " + request.method}}}}));
  } else if (m_ctx.channel.defers_requests()) {
    // Asked by round trip: answered at once from the retry, or left for the next one.
    const std::string key = id.is_string() ? id.get<std::string>() : id.dump();
    if (auto answer = m_ctx.channel.ask(key, request.method, request.params)) {
      answer_child(relay_answer_line(id, *answer));
    } else {
      m_awaiting_input = true;
    }
  } else if (!m_relay->submit(std::move(request))) {
    answer_child(relay_answer_line(
        id, {{"error", {{"code", -32603}, {"message", "too many pending requests"}}}}));
  }
}

// A question waits for the client's retry. The lines the child has already written (more
// questions asked in one go) still count; then the child is stopped. Nothing waits for more.
void ExecCall::drain_questions() {
  while (m_ending == Ending::running && m_child.stdout_fd().valid()) {
    pollfd out{m_child.stdout_fd().get(), POLLIN, 0};
    if (::poll(&out, 1, 0) <= 0 || !(out.revents & (POLLIN | POLLHUP | POLLERR))) break;
    read_stdout();
  }
  end(Ending::input_required);
}

// SIGTERM to the group, SIGKILL after the grace period, reaped either way. Pipes are no
// longer read: descendants holding them cannot delay us.
void ExecCall::terminate() {
  m_child.signal_group(SIGTERM);
  m_child.wait_exit(m_settings.kill_grace);
  m_child.kill_and_reap();
}

json ExecCall::finish() {
  json result;
  switch (m_ending) {
    case Ending::result:
      m_child.stdin_fd().reset();  // EOF tells an mcp child it may go
      m_child.wait_exit(k_exit_linger);
      m_child.kill_and_reap();
      result = std::move(m_result);
      break;
    case Ending::exited: {
      // Whatever the child left running in its group ends with the call.
      const ExitStatus status = m_child.kill_and_reap();
      if (mcp()) {
        result = tool_error(exit_message(status, m_stderr, " without a result"));
      } else if (status.signaled || status.code != 0) {
        result = tool_error(exit_message(status, m_stderr));
      } else if (m_spec.output == ExecHandlerSpec::Output::json) {
        result = json_output_result(m_stdout);
      } else {
        result = text_output_result(m_stdout);
      }
      break;
    }
    case Ending::timeout:
      terminate();
      result = tool_error("timed out after " + std::to_string(m_spec.timeout.count()) + " ms");
      break;
    case Ending::cancelled:
      terminate();
      result = tool_error("cancelled");
      break;
    case Ending::input_required:
      // The dispatcher answers with the questions (CallChannel::ask); this is never shown.
      terminate();
      result = tool_error("waiting for the client's input");
      break;
    case Ending::too_big:
    case Ending::bad_output:
    case Ending::running:
      terminate();
      result = tool_error(m_message);
      break;
  }
  if (m_relay) m_relay->stop();
  return result;
}

json run_exec_unchecked(const ExecHandlerSpec& spec, const fs::path& base_dir,
                        const json& arguments, const json& values, CallContext& ctx,
                        const ExecSettings& settings) {
  if (ctx.cancel.cancelled()) return tool_error("cancelled");
  SpawnRequest request{child_argv(spec, base_dir, values), {}, child_cwd(spec, base_dir)};
  const std::string program = request.argv.empty() ? std::string() : request.argv.front();
  if (auto problem = cwd_problem(request.cwd)) {
    return tool_error("cannot run '" + program + "': " + *problem);
  }
  // execve() ends each argument at its first NUL: a value with one would silently lose the rest.
  for (std::size_t i = 1; i < request.argv.size(); ++i) {
    if (request.argv[i].find('\0') != std::string::npos)
      return tool_error("cannot run '" + program + "': argument " + std::to_string(i) +
                        " would contain a NUL character, which a program argument cannot hold");
  }

  auto scratch = ScratchDir::create(settings.scratch_root);
  if (auto* problem = std::get_if<std::string>(&scratch)) {
    spdlog::error("exec {}: {}", ctx.name, *problem);
    return tool_error("cannot create a scratch directory");
  }
  const ScratchDir& scratch_dir = std::get<ScratchDir>(scratch);
  request.env = child_environment(spec, ctx, scratch_dir.path());

  auto spawned = ChildProcess::spawn(request);
  if (auto* problem = std::get_if<std::string>(&spawned)) {
    return tool_error("cannot run '" + program + "': " + *problem);
  }
  ChildProcess& child = std::get<ChildProcess>(spawned);
  spdlog::debug("exec {}: started '{}' as pid {} [{}]", ctx.name, program, child.pid(),
                ctx.correlation_id);

  ExecCall call(spec, settings, ctx, child, call_line(arguments, ctx));
  json result = call.run();
  if (const auto& tail = call.stderr_tail().text(); !tail.empty()) {
    spdlog::debug("exec {}: stderr of '{}' [{}]: {}", ctx.name, program, ctx.correlation_id,
                  sanitize_utf8(tail));
  }
  return result;
}

}  // namespace

json run_exec(const ExecHandlerSpec& spec, const fs::path& base_dir, const json& arguments,
              const json& values, CallContext& ctx, const ExecSettings& settings) {
  try {
    return run_exec_unchecked(spec, base_dir, arguments, values, ctx, settings);
  } catch (const std::exception& e) {
    // Child, scratch directory and relay thread were cleaned up by their destructors.
    spdlog::error("exec {}: internal error [{}]: {}", ctx.name, ctx.correlation_id, e.what());
  } catch (...) {
    spdlog::error("exec {}: unknown internal error [{}]", ctx.name, ctx.correlation_id);
  }
  return tool_error("internal error while running the command");
}

}  // namespace mcpd::core
