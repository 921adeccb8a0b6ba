#pragma once
// The dispatcher test fixture: a hand-built catalog (static, exec and http tools, resources,
// prompts), a Session whose outgoing messages land in an Outbox, and request helpers.

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/protocol/dispatcher.hpp"
#include "core/protocol/rpc.hpp"

using namespace mcpd::core;
namespace fs = std::filesystem;

namespace {

// --- building a catalog by hand ---

std::shared_ptr<const Schema> compile(const json& schema) {
  std::string error;
  auto compiled = Schema::compile(schema, error);
  INFO(error);
  REQUIRE(compiled);
  return compiled;
}

ToolDef make_tool(const std::string& name, HandlerSpec handler,
                  json input_schema = json{{"type", "object"}},
                  std::optional<json> output_schema = std::nullopt) {
  ToolDef tool;
  tool.name = name;
  tool.descriptor = {
      {"name", name}, {"description", "The " + name + " tool"}, {"inputSchema", input_schema}};
  if (output_schema) {
    tool.descriptor["outputSchema"] = *output_schema;
    tool.output_schema = compile(*output_schema);
  }
  tool.input_schema = compile(input_schema);
  const json properties = input_schema.value("properties", json::object());
  for (const auto& [key, property] : properties.items()) {
    tool.parameters.push_back(key);
    if (property.contains("default")) tool.defaults[key] = property["default"];
  }
  tool.handler = std::move(handler);
  return tool;
}

StaticHandlerSpec text_handler(const std::string& text) {
  StaticHandlerSpec spec;
  spec.content = json::array({{{"type", "text"}, {"text", text}}});
  return spec;
}

ExecHandlerSpec exec_handler(const fs::path& dir, std::vector<std::string> command,
                             ExecHandlerSpec::Output output = ExecHandlerSpec::Output::text) {
  ExecHandlerSpec spec;
  spec.command = std::move(command);
  spec.cwd = dir;
  spec.timeout = std::chrono::seconds(90);
  spec.output = output;
  return spec;
}

ExecHandlerSpec shell_mcp(const fs::path& dir, const std::string& script) {
  return exec_handler(dir, {"/bin/sh", "-c", script}, ExecHandlerSpec::Output::mcp);
}

PromptDef make_prompt(const std::string& name, json arguments, json messages,
                      std::map<std::string, std::vector<std::string>> completions = {}) {
  PromptDef prompt;
  prompt.name = name;
  prompt.descriptor = {
      {"name", name}, {"description", "The " + name + " prompt"}, {"arguments", arguments}};
  prompt.messages = std::move(messages);
  prompt.completions = std::move(completions);
  return prompt;
}

ResourceDef make_resource(const std::string& uri, ResourceSource source,
                          std::optional<std::string> mime = std::nullopt) {
  ResourceDef resource;
  resource.uri = uri;
  resource.descriptor = {{"uri", uri}, {"name", uri}};
  if (mime) resource.descriptor["mimeType"] = *mime;
  resource.source = std::move(source);
  return resource;
}

ResourceTemplateDef make_template(const std::string& uri_template,
                                  std::vector<std::string> variables, ResourceSource source) {
  ResourceTemplateDef templ;
  templ.uri_template = uri_template;
  templ.descriptor = {
      {"uriTemplate", uri_template}, {"name", uri_template}, {"mimeType", "text/plain"}};
  templ.variables = std::move(variables);
  templ.source = std::move(source);
  return templ;
}

ResourceSource text_source(std::string text) {
  ResourceSource source;
  source.text = std::move(text);
  return source;
}

ResourceSource file_source(fs::path path) {
  ResourceSource source;
  source.file = std::move(path);
  return source;
}

const std::string k_png_bytes("\x89PNG\r\n\x1a\n\0\x01\xff", 11);

std::shared_ptr<Catalog> make_catalog(const fs::path& dir) {
  auto catalog = std::make_shared<Catalog>();
  const json greet_schema{
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}, {"minLength", 1}}},
        {"count", {{"type", "integer"}, {"minimum", 1}, {"maximum", 10}, {"default", 3}}},
        {"note", {{"type", "string"}}}}},
      {"required", {"name"}}};
  const json weather_output{
      {"type", "object"}, {"properties", {{"temp", {{"type", "number"}}}}}, {"required", {"temp"}}};

  StaticHandlerSpec weather;
  weather.structured_content = json{{"temp", 21.5}};
  StaticHandlerSpec broken = weather;
  broken.structured_content = json{{"temperature", "hot"}};
  StaticHandlerSpec failing = text_handler("no weather today");
  failing.is_error = true;

  catalog->tools.push_back(
      make_tool("greet", text_handler("Hello {name} x{count} [{note}] {other}"), greet_schema));
  catalog->tools.push_back(make_tool("weather", weather, json{{"type", "object"}}, weather_output));
  catalog->tools.push_back(
      make_tool("broken_output", broken, json{{"type", "object"}}, weather_output));
  catalog->tools.push_back(make_tool("missing_output", text_handler("just text"),
                                     json{{"type", "object"}}, weather_output));
  catalog->tools.push_back(make_tool("failing", failing, json{{"type", "object"}}, weather_output));
  catalog->tools.push_back(make_tool("secret", text_handler("classified")));
  HttpHandlerSpec http;
  http.upstream = "django";
  http.path = "/api/";
  catalog->tools.push_back(make_tool("remote", http));
  catalog->tools.push_back(make_tool(
      "correlation",
      exec_handler(dir, {"/bin/sh", "-c", "read line; printf %s \"$MCP_CORRELATION_ID\""})));
  catalog->tools.push_back(make_tool("sleeper", exec_handler(dir, {"/bin/sleep", "60"})));
  catalog->tools.push_back(make_tool(
      "chatty",
      shell_mcp(dir,
                "read call\n"
                "echo '{\"progress\":1,\"total\":4,\"message\":\"quarter\"}'\n"
                "echo '{\"log\":{\"level\":\"debug\",\"logger\":\"t\",\"data\":\"dbg\"}}'\n"
                "echo '{\"log\":{\"level\":\"error\",\"logger\":\"t\",\"data\":\"bad\"}}'\n"
                "echo '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}}'\n")));
  catalog->tools.push_back(make_tool(
      "roots", shell_mcp(dir,
                         "read call\n"
                         "echo '{\"request\":{\"id\":1,\"method\":\"roots/list\",\"params\":{}}}'\n"
                         "read answer\n"
                         "printf '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],"
                         "\"structuredContent\":%s}}\\n' \"$answer\"\n")));

  ExecHandlerSpec impatient =
      shell_mcp(dir,
                "read call\n"
                "echo '{\"request\":{\"id\":1,\"method\":\"roots/list\"}}'\n"
                "read answer\n"
                "sleep 60\n");
  impatient.timeout = std::chrono::milliseconds(1000);
  catalog->tools.push_back(make_tool("impatient", impatient));

  catalog->resources.push_back(
      make_resource("mem://hello", text_source("Hello, world"), "text/plain"));
  catalog->resources.push_back(
      make_resource("file:///readme", file_source(dir / "readme.md"), "text/markdown"));
  catalog->resources.push_back(
      make_resource("file:///logo", file_source(dir / "logo.png"), "image/png"));
  catalog->resources.push_back(make_resource("file:///untyped", file_source(dir / "notes")));
  ResourceSource handled;
  handled.handler = text_handler("from the handler");
  catalog->resources.push_back(make_resource("static://handled", handled, "text/plain"));
  ResourceSource refused;
  refused.handler = failing;
  catalog->resources.push_back(make_resource("static://refused", refused));

  catalog->resource_templates.push_back(
      make_template("greet://{who}", {"who"}, text_source("Hi {who}!")));
  catalog->resource_templates.push_back(
      make_template("doc://{name}", {"name"}, file_source(dir / "docs" / "{name}.txt")));

  const json messages = json::array(
      {{{"role", "user"},
        {"content",
         {{"type", "text"}, {"text", "Summarize order {order_id} in a {tone} tone. {literal}"}}}}});
  catalog->prompts.push_back(make_prompt(
      "summarize", json::array({{{"name", "order_id"}, {"required", true}}, {{"name", "tone"}}}),
      messages, {{"tone", {"formal", "friendly", "funny", "casual"}}}));
  std::vector<std::string> many;
  for (int i = 0; i < 150; ++i) many.push_back("v" + std::to_string(1000 + i));
  catalog->prompts.push_back(
      make_prompt("pick", json::array({{{"name", "value"}}}), json::array(), {{"value", many}}));
  catalog->index();
  return catalog;
}

// --- the client side of a session ---

class Outbox {
 public:
  void push(const json& message) {
    std::lock_guard lock(m_mutex);
    m_messages.push_back(message);
    m_cv.notify_all();
  }
  std::vector<json> with_method(const std::string& method) const {
    std::lock_guard lock(m_mutex);
    std::vector<json> found;
    for (const auto& m : m_messages)
      if (m.value("method", "") == method) found.push_back(m);
    return found;
  }
  json wait_for(const std::string& method) {
    std::unique_lock lock(m_mutex);
    json found;
    const bool arrived = m_cv.wait_for(lock, std::chrono::seconds(60), [&] {
      for (const auto& m : m_messages)
        if (m.value("method", "") == method) return found = m, true;
      return false;
    });
    REQUIRE(arrived);
    return found;
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<json> m_messages;
};

// Called on whatever thread ran the call: it records, and the test checks on its own thread
// (Catch2's assertions are not thread-safe).
struct RecordingObserver : CallObserver {
  void tool_called(const std::string& tool, bool is_error, double seconds) override {
    std::lock_guard lock(mutex);
    calls.push_back({tool, is_error});
    if (seconds < 0) negative_durations++;
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, bool>> calls;
  int negative_durations = 0;
};

class Fixture {
 public:
  explicit Fixture(DispatcherOptions options = {})
      : m_dir(fs::temp_directory_path() / ("mcpd-test-dispatcher-" + std::to_string(::getpid()) +
                                           "-" + std::to_string(s_counter++))) {
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "docs");
    std::ofstream(m_dir / "readme.md") << "# Readme\n";
    std::ofstream(m_dir / "logo.png", std::ios::binary) << k_png_bytes;
    std::ofstream(m_dir / "notes") << "plain notes";
    std::ofstream(m_dir / "docs" / "intro.txt") << "Intro text";
    std::ofstream(m_dir / "secret.txt") << "outside docs";

    ExecSettings settings;
    settings.scratch_root = m_dir / "scratch";
    runner = std::make_shared<HandlerRunner>(settings);
    catalog = make_catalog(m_dir);
    dispatcher = std::make_unique<Dispatcher>(catalog, runner, std::move(options));
    dispatcher->set_observer(observer);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }

  std::optional<json> handle(const json& message, const std::string& correlation_id = {}) {
    return dispatcher->handle(message, session, correlation_id);
  }
  json reply(const json& message) {
    auto answer = handle(message);
    REQUIRE(answer);
    return *answer;
  }
  json result(const json& id, const std::string& method, json params = json::object()) {
    const json answer = reply(make_request(id, method, std::move(params)));
    INFO(answer.dump());
    REQUIRE(answer.contains("result"));
    CHECK(answer["id"] == id);
    return answer["result"];
  }
  json error(const json& id, const std::string& method, json params = json::object()) {
    const json answer = reply(make_request(id, method, std::move(params)));
    INFO(answer.dump());
    REQUIRE(answer.contains("error"));
    CHECK(answer["id"] == id);
    return answer["error"];
  }
  json initialize(const std::string& version = "2025-11-25", json capabilities = json::object()) {
    const json init = result(0, "initialize",
                             {{"protocolVersion", version},
                              {"capabilities", capabilities},
                              {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
    CHECK_FALSE(handle(make_notification("notifications/initialized")));
    return init;
  }
  json call_tool(const std::string& name, json arguments = json::object(), json id = 1) {
    return result(std::move(id), "tools/call", {{"name", name}, {"arguments", arguments}});
  }

  const fs::path& dir() const { return m_dir; }

  Outbox outbox;
  Session session{[this](const json& m) { outbox.push(m); }};
  std::shared_ptr<HandlerRunner> runner;
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<RecordingObserver> observer = std::make_shared<RecordingObserver>();
  std::unique_ptr<Dispatcher> dispatcher;

 private:
  static inline std::atomic<int> s_counter{0};
  fs::path m_dir;
};

[[maybe_unused]] std::string first_text(const json& result) {
  return result["content"][0]["text"].get<std::string>();
}

[[maybe_unused]] std::vector<std::string> names(const json& list, const char* key = "name") {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item[key].get<std::string>());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// JSON-RPC framing
