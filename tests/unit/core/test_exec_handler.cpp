#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/protocol/call.hpp"
#include "core/handlers/exec.hpp"
#include "core/handlers/runner.hpp"

using namespace mcpd::core;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Output = ExecHandlerSpec::Output;

namespace {

const fs::path k_data = fs::path(MCPD_TEST_DATA) / "exec";

// A real in-process channel that records what the handler sends to the client.
class RecordingChannel : public CallChannel {
 public:
  void progress(double progress, std::optional<double> total,
                std::optional<std::string> message) override {
    std::lock_guard lock(m_mutex);
    m_events.push_back({{"progress", progress},
                        {"total", total ? json(*total) : json()},
                        {"message", message ? json(*message) : json()}});
  }
  void log(const std::string& level, const std::optional<std::string>& logger,
           const json& data) override {
    std::lock_guard lock(m_mutex);
    m_events.push_back(
        {{"log", level}, {"logger", logger ? json(*logger) : json()}, {"data", data}});
  }
  json request(const std::string& method, const json& params) override {
    {
      std::lock_guard lock(m_mutex);
      m_events.push_back({{"request", method}, {"params", params}});
    }
    if (answer) return answer(method, params);
    return json{{"error", {{"code", -32601}, {"message", "no client"}}}};
  }
  std::vector<json> events() {
    std::lock_guard lock(m_mutex);
    return m_events;
  }
  std::function<json(const std::string&, const json&)> answer;

 private:
  std::mutex m_mutex;
  std::vector<json> m_events;
};

// A directory of its own for each test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "mcpd-exec-test-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    m_path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }

 private:
  std::string m_name;
  std::optional<std::string> m_old;
};

struct Harness {
  TempDir dir;
  Identity identity;
  CancelToken cancel;
  RecordingChannel channel;
  ExecSettings settings;

  Harness() {
    settings.scratch_root = dir.path() / "scratch";
    settings.kill_grace = 300ms;
  }

  json run(const ExecHandlerSpec& spec, const json& arguments = json::object(),
           const json& values = json::object()) {
    CallContext ctx{"my_tool", identity, "corr-42", "2025-06-18", cancel, channel, {}, {}, {}, {}};
    return run_exec(spec, dir.path(), arguments, values, ctx, settings);
  }
};

ExecHandlerSpec shell(const std::string& script, Output output = Output::text) {
  ExecHandlerSpec spec;
  spec.command = {"/bin/sh", "-c", script};
  spec.output = output;
  spec.timeout = 20s;
  return spec;
}

ExecHandlerSpec mcp_child() {
  ExecHandlerSpec spec;
  spec.command = {"python3", (k_data / "mcp_child.py").string()};
  spec.output = Output::mcp;
  spec.timeout = 20s;
  return spec;
}

std::string text_of(const json& result) {
  return result.at("content").at(0).at("text");
}

bool is_error(const json& result) {
  return result.value("isError", false);
}

// Alive means running or stopped; a zombie waiting for its (new) parent is dead enough.
bool process_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' &&
         line[close + 2] != 'X';
}

// Every child this process started has been reaped.
bool no_children_left() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// No call directory is left under a scratch root (shard directories may stay).
bool no_call_dirs(const fs::path& root) {
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.path().filename().string().rfind("call-", 0) == 0) return false;
  return true;
}

}  // namespace

TEST_CASE("text output is one text block", "[core][exec]") {
  Harness h;
  auto result = h.run(shell("printf 'hello\\nworld'"));
  CHECK_FALSE(is_error(result));
  CHECK(result["content"].size() == 1);
  CHECK(result["content"][0]["type"] == "text");
  CHECK(text_of(result) == "hello\nworld");
  CHECK_FALSE(result.contains("structuredContent"));
}

TEST_CASE("text output replaces invalid UTF-8", "[core][exec]") {
  Harness h;
  auto result = h.run(shell("printf 'a\\377b\\303'"));
  CHECK(text_of(result) ==
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD");
}

TEST_CASE("the call is one JSON line on stdin", "[core][exec]") {
  Harness h;
  h.identity.user = "ann@example.com";
  h.identity.token_name = "laptop";
  auto result = h.run(shell("cat", Output::json), json{{"query", "shoes"}, {"limit", 3}});
  REQUIRE_FALSE(is_error(result));
  const json call = result["structuredContent"];
  CHECK(call["tool"] == "my_tool");
  CHECK(call["arguments"] == json{{"query", "shoes"}, {"limit", 3}});
  CHECK(call["context"] == json{{"user", "ann@example.com"},
                                {"token", "laptop"},
                                {"correlation_id", "corr-42"},
                                {"protocol_version", "2025-06-18"},
                                {"client_capabilities", json::object()},
                                {"input_responses", json::object()}});

  Harness anonymous;
  auto plain = anonymous.run(shell("cat", Output::json));
  CHECK(plain["structuredContent"]["context"]["user"].is_null());
  CHECK(plain["structuredContent"]["context"]["token"].is_null());
}

TEST_CASE("json output", "[core][exec]") {
  Harness h;
  SECTION("an object becomes structuredContent plus its text") {
    auto result = h.run(shell("printf '{\"a\": 1, \"b\": [true]}\\n'", Output::json));
    REQUIRE_FALSE(is_error(result));
    CHECK(result["structuredContent"] == json{{"a", 1}, {"b", {true}}});
    CHECK(json::parse(text_of(result)) == result["structuredContent"]);
    CHECK(text_of(result) == R"({"a":1,"b":[true]})");
  }
  SECTION("an array is text only") {
    auto result = h.run(shell("echo '[1, 2]'", Output::json));
    REQUIRE_FALSE(is_error(result));
    CHECK_FALSE(result.contains("structuredContent"));
    CHECK(text_of(result) == "[1,2]");
  }
  SECTION("invalid JSON is a tool error") {
    auto result = h.run(shell("echo '{\"a\": '", Output::json));
    CHECK(is_error(result));
    CHECK_THAT(text_of(result), Catch::StartsWith("tool printed invalid JSON: "));
  }
  SECTION("empty output is invalid JSON") {
    auto result = h.run(shell("true", Output::json));
    CHECK(is_error(result));
    CHECK(text_of(result) == "tool printed invalid JSON: empty output");
  }
  SECTION("absurd nesting is refused, not recursed into") {
    auto result = h.run(shell("head -c 100000 /dev/zero | tr '\\0' '['", Output::json));
    CHECK(is_error(result));
    CHECK_THAT(text_of(result), Catch::Contains("nested deeper"));
  }
}

TEST_CASE("mcp output: progress, log and result as they arrive", "[core][exec]") {
  Harness h;
  auto result = h.run(mcp_child(), json{{"mode", "basic"}});
  REQUIRE_FALSE(is_error(result));
  CHECK(text_of(result) == "done my_tool");
  CHECK(result["structuredContent"] == json{{"steps", 2}});

  auto events = h.channel.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0] == json{{"progress", 1.0}, {"total", 2.0}, {"message", "half way"}});
  CHECK(events[1] == json{{"log", "info"}, {"logger", "child"}, {"data", {{"step", 1}}}});
  CHECK(events[2] == json{{"progress", 2.0}, {"total", nullptr}, {"message", nullptr}});
}

TEST_CASE("mcp output: a request is relayed and answered on stdin", "[core][exec]") {
  Harness h;
  h.channel.answer = [](const std::string& method, const json& params) {
    return json{
        {"result",
         {{"action", "accept"}, {"echo", method + ":" + params["message"].get<std::string>()}}}};
  };
  auto result = h.run(mcp_child(), json{{"mode", "request"}});
  REQUIRE_FALSE(is_error(result));
  CHECK(result["structuredContent"]["answer"] ==
        json{{"id", "q1"},
             {"result", {{"action", "accept"}, {"echo", "elicitation/create:your name?"}}}});
  auto events = h.channel.events();
  REQUIRE(events.size() == 1);
  CHECK(events[0]["request"] == "elicitation/create");
}

TEST_CASE("mcp output: the client's error is relayed too", "[core][exec]") {
  Harness h;  // the default answer is an error
  auto result = h.run(mcp_child(), json{{"mode", "request"}});
  REQUIRE_FALSE(is_error(result));
  CHECK(result["structuredContent"]["answer"]["id"] == "q1");
  CHECK(result["structuredContent"]["answer"]["error"]["message"] == "no client");
}

TEST_CASE("mcp output: methods that are not client features are refused to the child",
          "[core][exec]") {
  Harness h;
  auto result = h.run(mcp_child(), json{{"mode", "forbidden"}});
  REQUIRE_FALSE(is_error(result));
  CHECK(result["structuredContent"]["answer"]["id"] == 3);
  CHECK(result["structuredContent"]["answer"]["error"]["code"] == -32601);
  CHECK(h.channel.events().empty());
}

TEST_CASE("mcp output: failures", "[core][exec]") {
  Harness h;
  SECTION("a line that is not JSON") {
    const auto start = std::chrono::steady_clock::now();
    auto result = h.run(mcp_child(), json{{"mode", "bad"}});
    CHECK(is_error(result));
    CHECK(text_of(result) == "bad output line: not JSON: this is not json");
    CHECK(seconds_since(start) < 15);
  }
  SECTION("EOF without a result names the exit status") {
    auto result = h.run(mcp_child(), json{{"mode", "no_result"}});
    CHECK(is_error(result));
    CHECK(text_of(result) == "command exited with status 4 without a result: gave up");
  }
  SECTION("a final line without its newline still counts") {
    auto result = h.run(mcp_child(), json{{"mode", "unterminated"}});
    REQUIRE_FALSE(is_error(result));
    CHECK(text_of(result) == "last");
  }
  SECTION("a result that is not a CallToolResult") {
    auto spec = shell("echo '{\"result\": {\"text\": \"no content\"}}'", Output::mcp);
    auto result = h.run(spec);
    CHECK(is_error(result));
    CHECK_THAT(text_of(result), Catch::StartsWith("bad output line: "));
  }
  SECTION("an unknown shape") {
    auto result = h.run(shell("echo '{\"hello\": 1}'", Output::mcp));
    CHECK(is_error(result));
    CHECK_THAT(text_of(result), Catch::StartsWith("bad output line: "));
  }
  CHECK(no_children_left());
}

TEST_CASE("mcp output: a child that stays after its result is killed", "[core][exec]") {
  Harness h;
  const auto start = std::chrono::steady_clock::now();
  auto result = h.run(mcp_child(), json{{"mode", "linger"}});
  REQUIRE_FALSE(is_error(result));
  CHECK(text_of(result) == "early");
  CHECK(seconds_since(start) < 15);
  CHECK(no_children_left());
}

TEST_CASE("mcp output: cancellation reaches a relayed request", "[core][exec]") {
  Harness h;
  // Like the real session: the request returns when the call is cancelled.
  h.channel.answer = [&h](const std::string&, const json&) {
    while (!h.cancel.cancelled()) std::this_thread::sleep_for(10ms);
    return json{{"error", {{"code", -32800}, {"message", "cancelled"}}}};
  };
  std::thread canceller([&h] {
    while (h.channel.events().empty()) std::this_thread::sleep_for(10ms);
    h.cancel.cancel();
  });
  auto result = h.run(mcp_child(), json{{"mode", "request"}});
  canceller.join();
  CHECK(is_error(result));
  CHECK(text_of(result) == "cancelled");
  CHECK(no_children_left());
}

TEST_CASE("the environment is an allow-list", "[core][exec]") {
  ScopedEnv secret("MCPD_TEST_SECRET", "do-not-leak");
  ScopedEnv kept("MCPD_TEST_KEPT", "kept-value");
  Harness h;
  h.identity.user = "ann@example.com";
  h.identity.token_name = "laptop";
  auto spec = shell("env");
  spec.command = {"env"};  // found on PATH
  spec.env = {"MCPD_TEST_KEPT", "MCPD_TEST_UNSET"};
  auto result = h.run(spec);
  REQUIRE_FALSE(is_error(result));
  const auto lines = lines_of(text_of(result));
  auto has = [&lines](const std::string& entry) {
    return std::find(lines.begin(), lines.end(), entry) != lines.end();
  };
  auto has_name = [&lines](const std::string& name) {
    return std::any_of(lines.begin(), lines.end(),
                       [&name](const std::string& l) { return l.rfind(name + "=", 0) == 0; });
  };
  CHECK_FALSE(has_name("MCPD_TEST_SECRET"));
  CHECK_FALSE(has_name("MCPD_TEST_UNSET"));
  CHECK(has("MCPD_TEST_KEPT=kept-value"));
  CHECK(has(std::string("PATH=") + std::getenv("PATH")));
  CHECK(has("MCP_USER=ann@example.com"));
  CHECK(has("MCP_TOKEN_NAME=laptop"));
  CHECK(has("MCP_CORRELATION_ID=corr-42"));
  CHECK(has("MCP_TOOL=my_tool"));
  CHECK(has("MCP_PROTOCOL_VERSION=2025-06-18"));
  CHECK(has_name("TMPDIR"));

  Harness anonymous;
  auto plain = lines_of(text_of(anonymous.run(spec)));
  CHECK(std::none_of(plain.begin(), plain.end(), [](const std::string& l) {
    return l.rfind("MCP_USER=", 0) == 0 || l.rfind("MCP_TOKEN_NAME=", 0) == 0;
  }));
}

TEST_CASE("placeholders stay inside their argv element, no shell", "[core][exec]") {
  Harness h;
  ExecHandlerSpec spec;
  spec.command = {
      "python3",  (k_data / "argv.py").string(), "{q}", "--limit={limit}", "{q}{q}", "{unknown}",
      "{missing}"};
  spec.output = Output::json;
  const json values{{"q", "a b; rm -rf / $(x) `y` 'z'"}, {"limit", 20}, {"missing", nullptr}};
  auto result = h.run(spec, json::object(), values);
  REQUIRE_FALSE(is_error(result));
  const json argv = json::parse(text_of(result));
  CHECK(argv == json{"a b; rm -rf / $(x) `y` 'z'", "--limit=20",
                     "a b; rm -rf / $(x) `y` 'z'a b; rm -rf / $(x) `y` 'z'", "{unknown}", ""});
}

TEST_CASE("a relative program path resolves against the descriptor directory", "[core][exec]") {
  Harness h;
  ExecHandlerSpec spec;
  spec.command = {"./argv.py", "x"};
  spec.output = Output::json;
  CallContext ctx{"my_tool", h.identity, "c", "2025-06-18", h.cancel, h.channel, {}, {}, {}, {}};
  auto result = run_exec(spec, k_data, json::object(), json::object(), ctx, h.settings);
  REQUIRE_FALSE(is_error(result));
  CHECK(text_of(result) == R"(["x"])");
}

TEST_CASE("cwd", "[core][exec]") {
  Harness h;
  fs::create_directory(h.dir.path() / "work");
  SECTION("an absolute cwd") {
    auto spec = shell("pwd -P");
    spec.cwd = h.dir.path() / "work";
    CHECK(text_of(h.run(spec)) == fs::canonical(h.dir.path() / "work").string() + "\n");
  }
  SECTION("a relative cwd resolves against the descriptor directory") {
    auto spec = shell("pwd -P");
    spec.cwd = "work";
    CHECK(text_of(h.run(spec)) == fs::canonical(h.dir.path() / "work").string() + "\n");
  }
  SECTION("the descriptor directory by default") {
    CHECK(text_of(h.run(shell("pwd -P"))) == fs::canonical(h.dir.path()).string() + "\n");
  }
  SECTION("a missing cwd is a spawn error") {
    auto spec = shell("pwd");
    spec.cwd = h.dir.path() / "nowhere";
    auto result = h.run(spec);
    CHECK(is_error(result));
    CHECK_THAT(text_of(result), Catch::StartsWith("cannot run '/bin/sh': working directory"));
  }
}

TEST_CASE("exit status and signals", "[core][exec]") {
  Harness h;
  SECTION("non-zero exit carries the last stderr lines") {
    auto result = h.run(shell("echo partial; echo 'first problem' >&2; echo 'oops' >&2; exit 3"));
    CHECK(is_error(result));
    CHECK(text_of(result) == "command exited with status 3: first problem\noops");
  }
  SECTION("json mode too") {
    auto result = h.run(shell("echo '{}'; exit 1", Output::json));
    CHECK(is_error(result));
    CHECK(text_of(result) == "command exited with status 1");
  }
  SECTION("long stderr is trimmed to its end") {
    auto result =
        h.run(shell("head -c 5000 /dev/zero | tr '\\0' x >&2; echo >&2; echo tail >&2; exit 2"));
    CHECK(is_error(result));
    CHECK(text_of(result) == "command exited with status 2: tail");
    auto one_line = h.run(shell("head -c 5000 /dev/zero | tr '\\0' y >&2; exit 2"));
    CHECK(text_of(one_line) == "command exited with status 2: ..." + std::string(300, 'y'));
  }
  SECTION("killed by a signal") {
    auto result = h.run(shell("kill -9 $$"));
    CHECK(is_error(result));
    CHECK(text_of(result) == "command killed by signal 9");
  }
}

TEST_CASE("spawn failures", "[core][exec]") {
  Harness h;
  ExecHandlerSpec spec;
  SECTION("a program not on PATH") {
    spec.command = {"mcpd-no-such-program-xyz"};
    auto result = h.run(spec);
    CHECK(is_error(result));
    CHECK(text_of(result) == "cannot run 'mcpd-no-such-program-xyz': No such file or directory");
  }
  SECTION("a missing absolute path") {
    spec.command = {"/nonexistent/prog"};
    CHECK(text_of(h.run(spec)) == "cannot run '/nonexistent/prog': No such file or directory");
  }
  SECTION("a file that is not executable") {
    spec.command = {(k_data / "not_executable.txt").string()};
    CHECK(text_of(h.run(spec)) == "cannot run '" + spec.command[0] + "': Permission denied");
  }
  // Nothing is left behind: no scratch directory, no child.
  CHECK(no_call_dirs(h.settings.scratch_root));
  CHECK(no_children_left());
}

TEST_CASE("timeout kills a child that ignores SIGTERM and its grandchild", "[core][exec]") {
  Harness h;
  const fs::path pid_file = h.dir.path() / "grandchild.pid";
  auto spec = shell("trap '' TERM; sleep 100 & echo $! > '" + pid_file.string() +
                    "'; while true; do sleep 1; done");
  spec.timeout = 3s;  // ample time for the shell to start its grandchild on a loaded machine
  const auto start = std::chrono::steady_clock::now();
  auto result = h.run(spec);
  CHECK(seconds_since(start) < 30);
  CHECK(is_error(result));
  CHECK(text_of(result) == "timed out after 3000 ms");
  CHECK(no_children_left());

  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  REQUIRE(in >> grandchild);
  // The orphan is reaped by init some time after SIGKILL; it must not be running.
  for (int i = 0; i < 100 && process_running(grandchild); ++i) std::this_thread::sleep_for(50ms);
  CHECK_FALSE(process_running(grandchild));
}

TEST_CASE("cancellation from another thread", "[core][exec]") {
  Harness h;
  std::thread canceller([&h] {
    std::this_thread::sleep_for(300ms);
    h.cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = h.run(shell("sleep 100"));
  canceller.join();
  CHECK(seconds_since(start) < 15);
  CHECK(is_error(result));
  CHECK(text_of(result) == "cancelled");
  CHECK(no_children_left());

  SECTION("a call cancelled before it starts spawns nothing") {
    auto again = h.run(shell("echo no"));
    CHECK(text_of(again) == "cancelled");
  }
}

TEST_CASE("output cap", "[core][exec]") {
  Harness h;
  SECTION("exceeding the cap kills the child") {
    auto spec = shell("head -c 100000 /dev/zero; sleep 100");
    spec.max_output_bytes = 1000;
    auto result = h.run(spec);
    CHECK(is_error(result));
    CHECK(text_of(result) == "output exceeds 1000 bytes");
  }
  SECTION("exactly the cap is fine") {
    auto spec = shell("head -c 1000 /dev/zero | tr '\\0' a");
    spec.max_output_bytes = 1000;
    auto result = h.run(spec);
    REQUIRE_FALSE(is_error(result));
    CHECK(text_of(result) == std::string(1000, 'a'));
  }
  SECTION("mcp mode caps each line") {
    auto spec = shell(
        "for i in 1 2 3 4 5 6 7 8; do echo '{\"progress\": 1, \"message\": \"0123456789\"}'; done; "
        "echo '{\"result\": {\"content\": []}}'",
        Output::mcp);
    spec.max_output_bytes = 60;
    auto result = h.run(spec);
    REQUIRE_FALSE(is_error(result));
    CHECK(h.channel.events().size() == 8);
    auto long_line = shell("head -c 1000 /dev/zero | tr '\\0' a; sleep 100", Output::mcp);
    long_line.max_output_bytes = 60;
    CHECK(text_of(h.run(long_line)) == "output exceeds 60 bytes");
  }
  CHECK(no_children_left());
}

TEST_CASE("a child that never reads its stdin does not block the call", "[core][exec]") {
  Harness h;
  // Far more than a pipe holds.
  const json arguments{{"blob", std::string(1 << 20, 'z')}};
  auto result = h.run(shell("exec 0<&-; sleep 0.2; echo done"), arguments);
  REQUIRE_FALSE(is_error(result));
  CHECK(text_of(result) == "done\n");
  auto closed = h.run(shell("echo early"), arguments);
  CHECK(text_of(closed) == "early\n");
}

TEST_CASE("each call has a private TMPDIR, removed afterwards", "[core][exec]") {
  Harness h;
  auto result =
      h.run(shell("echo \"$TMPDIR\"; stat -c %a \"$TMPDIR\"; touch \"$TMPDIR/file\" && mkdir "
                  "\"$TMPDIR/sub\" && "
                  "echo ok"));
  REQUIRE_FALSE(is_error(result));
  const auto lines = lines_of(text_of(result));
  REQUIRE(lines.size() == 3);
  const fs::path scratch = lines[0];
  CHECK(scratch.parent_path().parent_path() == h.settings.scratch_root);
  CHECK_THAT(scratch.parent_path().filename().string(), Catch::Matches("s[0-7]"));
  CHECK_THAT(scratch.filename().string(), Catch::StartsWith("call-"));
  CHECK(lines[1] == "700");
  CHECK(lines[2] == "ok");
  CHECK_FALSE(fs::exists(scratch));
  CHECK((fs::status(h.settings.scratch_root).permissions() & fs::perms::all) ==
        fs::perms::owner_all);

  SECTION("also after a failure") {
    auto failed = h.run(shell("echo \"$TMPDIR\"; exit 1"));
    CHECK(is_error(failed));
    CHECK(no_call_dirs(h.settings.scratch_root));
  }
  SECTION("a scratch root writable by others is refused") {
    fs::permissions(h.settings.scratch_root, fs::perms::all);
    auto refused = h.run(shell("echo hi"));
    CHECK(is_error(refused));
    CHECK(text_of(refused) == "cannot create a scratch directory");
  }
}

TEST_CASE("sweep_scratch removes old entries only", "[core][exec]") {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  const fs::path outside = dir.path() / "outside";
  fs::create_directories(root / "old-dir" / "nested");
  std::ofstream(root / "old-dir" / "nested" / "file") << "x";
  std::ofstream(root / "old-file") << "x";
  fs::create_directories(root / "new-dir");
  std::ofstream(root / "new-file") << "x";
  fs::create_directories(outside);
  std::ofstream(outside / "keep") << "x";
  fs::create_directory_symlink(outside, root / "old-link");

  const auto old_time = fs::file_time_type::clock::now() - 48h;
  fs::last_write_time(root / "old-dir", old_time);
  fs::last_write_time(root / "old-file", old_time);
  fs::last_write_time(outside, old_time);
  // The link's own time (lutimes): a sweep must judge and remove the link, not its target.
  timeval times[2] = {{::time(nullptr) - 48 * 3600, 0}, {::time(nullptr) - 48 * 3600, 0}};
  REQUIRE(::lutimes((root / "old-link").c_str(), times) == 0);

  CHECK(sweep_scratch(root, 24h) == 3);
  CHECK_FALSE(fs::exists(root / "old-dir"));
  CHECK_FALSE(fs::exists(root / "old-file"));
  CHECK_FALSE(fs::exists(fs::symlink_status(root / "old-link")));
  CHECK(fs::exists(root / "new-dir"));
  CHECK(fs::exists(root / "new-file"));
  CHECK(fs::exists(outside / "keep"));

  CHECK(sweep_scratch(root, 24h) == 0);
  CHECK(sweep_scratch(dir.path() / "missing", 24h) == 0);

  // Inside shard directories: old call directories go, the (old) shard itself stays.
  fs::create_directories(root / "s3" / "call-old");
  fs::create_directories(root / "s3" / "call-new");
  fs::last_write_time(root / "s3" / "call-old", old_time);
  fs::last_write_time(root / "s3", old_time);
  CHECK(sweep_scratch(root, 24h) == 1);
  CHECK(fs::exists(root / "s3" / "call-new"));
  CHECK_FALSE(fs::exists(root / "s3" / "call-old"));
}

TEST_CASE("sweep_scratch spares the directory of a running call", "[core][exec]") {
  Harness h;
  const fs::path ready = h.dir.path() / "ready";
  const fs::path go = h.dir.path() / "go";
  // The child ages its scratch directory, then waits until the test has swept.
  auto spec =
      shell("touch -d '2 days ago' \"$TMPDIR\"; touch '" + ready.string() + "'; while [ ! -e '" +
            go.string() + "' ]; do sleep 0.05; done; test -d \"$TMPDIR\" && echo still-there");
  std::optional<std::size_t> swept;
  std::thread sweeper([&] {
    for (int i = 0; i < 1000 && !fs::exists(ready); ++i) std::this_thread::sleep_for(10ms);
    if (fs::exists(ready)) swept = sweep_scratch(h.settings.scratch_root, 24h);
    std::ofstream(go) << "go";
  });
  auto result = h.run(spec);
  sweeper.join();
  REQUIRE(swept);
  CHECK(*swept == 0);
  CHECK(text_of(result) == "still-there\n");
}
