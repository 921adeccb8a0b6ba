#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/handlers/runner.hpp"
#include "core/handlers/static_handler.hpp"
#include "core/protocol/call.hpp"

using namespace mcpd::core;
namespace fs = std::filesystem;

namespace {

// A channel for calls that must not talk to the client.
class SilentChannel : public CallChannel {
 public:
  void progress(double, std::optional<double>, std::optional<std::string>) override {}
  void log(const std::string&, const std::optional<std::string>&, const json&) override {}
  json request(const std::string&, const json&) override {
    return json{{"error", {{"code", -32601}, {"message", "no client"}}}};
  }
};

fs::path make_temp_dir(const std::string& tag) {
  const fs::path dir =
      fs::temp_directory_path() / ("mcpd-test-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("run_static fills placeholders in content and structuredContent",
          "[core][static_handler]") {
  StaticHandlerSpec spec;
  spec.content = json::array(
      {{{"type", "text"}, {"text", "Hello {name}, you are {age}; {unknown} {not a name}"}},
       {{"type", "image"}, {"data", "AAAA"}, {"mimeType", "image/png"}}});
  spec.structured_content = json{{"greeting", "hi {name}"}, {"count", 3}, {"tags", {"{name}"}}};
  const json values{{"name", "Ada"}, {"age", 36}, {"unknown", nullptr}};

  const json result = run_static(spec, values);
  CHECK(result["content"][0]["text"] == "Hello Ada, you are 36;  {not a name}");
  CHECK(result["content"][1] == spec.content[1]);
  CHECK(result["structuredContent"] ==
        json{{"greeting", "hi Ada"}, {"count", 3}, {"tags", {"Ada"}}});
  CHECK_FALSE(result.contains("isError"));
}

TEST_CASE("run_static reports isError and omits absent structuredContent",
          "[core][static_handler]") {
  StaticHandlerSpec spec;
  spec.content = json::array({{{"type", "text"}, {"text", "nope"}}});
  spec.is_error = true;
  const json result = run_static(spec, json::object());
  CHECK(result["isError"] == true);
  CHECK_FALSE(result.contains("structuredContent"));
}

TEST_CASE("tool_error has the CallToolResult shape", "[core][static_handler]") {
  CHECK(tool_error("boom") ==
        json{{"content", {{{"type", "text"}, {"text", "boom"}}}}, {"isError", true}});
}

TEST_CASE("HandlerRunner dispatches on the handler kind", "[core][static_handler]") {
  const fs::path dir = make_temp_dir("runner");
  ExecSettings settings;
  settings.scratch_root = dir / "scratch";
  HandlerRunner runner(settings);
  Identity identity;
  CancelToken cancel;
  SilentChannel channel;
  CallContext ctx{"tool", identity, "0123456789abcdef", "2025-11-25", cancel, channel, {}, {},
                  {},     {}};

  SECTION("static") {
    StaticHandlerSpec spec;
    spec.content = json::array({{{"type", "text"}, {"text", "q={query}"}}});
    const json result = runner.run(spec, dir, json{{"query", "x"}}, json{{"query", "x"}}, ctx);
    CHECK(result["content"][0]["text"] == "q=x");
  }

  SECTION("http without an invoker is a tool error") {
    HttpHandlerSpec spec;
    spec.upstream = "django";
    spec.path = "/api/";
    const json result = runner.run(spec, dir, json::object(), json::object(), ctx);
    CHECK(result["isError"] == true);
    CHECK(result["content"][0]["text"] == "http handler not available");
  }

  SECTION("exec runs the program") {
    ExecHandlerSpec spec;
    spec.command = {"/bin/sh", "-c", "read line; printf 'hi %s' \"$1\"", "sh", "{who}"};
    spec.cwd = dir;
    const json result = runner.run(spec, dir, json{{"who", "Bob"}}, json{{"who", "Bob"}}, ctx);
    CHECK_FALSE(result.value("isError", false));
    CHECK(result["content"][0]["text"] == "hi Bob");
  }

  fs::remove_all(dir);
}

TEST_CASE("HandlerRunner uses the http invoker when there is one", "[core][static_handler]") {
  // A minimal invoker that answers from the spec, to see the runner hand it the call.
  struct EchoInvoker : HttpInvoker {
    json call(const HttpHandlerSpec& spec, const json& values, CallContext& ctx) override {
      return json{{"content",
                   {{{"type", "text"},
                     {"text", spec.method + " " + spec.path + " " + values["id"].dump() + " " +
                                  std::string(ctx.correlation_id)}}}}};
    }
  };
  HandlerRunner runner(ExecSettings{}, std::make_shared<EchoInvoker>());
  Identity identity;
  CancelToken cancel;
  SilentChannel channel;
  CallContext ctx{"tool", identity, "cid", "2025-11-25", cancel, channel, {}, {}, {}, {}};
  HttpHandlerSpec spec;
  spec.path = "/things/";
  const json result = runner.run(spec, "/", json::object(), json{{"id", 7}}, ctx);
  CHECK(result["content"][0]["text"] == "GET /things/ 7 cid");
}

TEST_CASE("HandlerRunner sweeps old scratch leftovers and stops its sweeper",
          "[core][static_handler]") {
  const fs::path root = make_temp_dir("sweep");
  fs::create_directories(root / "old-call");
  std::ofstream(root / "old-call" / "file") << "x";
  fs::create_directories(root / "fresh-call");
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(48);
  fs::last_write_time(root / "old-call", old_time);

  ExecSettings settings;
  settings.scratch_root = root;
  settings.scratch_sweep_interval = std::chrono::hours(6);
  {
    HandlerRunner runner(settings);
    CHECK(runner.sweep_once() == 1);
    CHECK_FALSE(fs::exists(root / "old-call"));
    CHECK(fs::exists(root / "fresh-call"));
    runner.start_sweeper();
    runner.start_sweeper();  // idempotent
  }  // the destructor must stop the sweeper without waiting for its 6 h interval

  // The background sweep: its first pass comes after min(5 s, interval); a runner told to
  // wait for the first exec call sweeps nothing before one.
  fs::create_directories(root / "old-call");
  fs::last_write_time(root / "old-call", old_time);
  settings.scratch_sweep_interval = std::chrono::seconds(1);
  {
    HandlerRunner runner(settings);
    runner.start_sweeper(/*on_first_exec=*/true);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(fs::exists(root / "old-call"));
  }
  {
    HandlerRunner runner(settings);
    runner.start_sweeper();
    for (int i = 0; i < 100 && fs::exists(root / "old-call"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(fs::exists(root / "old-call"));
    CHECK(fs::exists(root / "fresh-call"));
  }

  {
    ExecSettings missing;
    missing.scratch_root = root / "does-not-exist";
    HandlerRunner runner(missing);
    CHECK(runner.sweep_once() == 0);
  }
  fs::remove_all(root);
}
