// Fuzzes the protocol: each input is a sequence of newline-separated messages, parsed with
// Dispatcher::parse and handled in order on one fresh Session, so that legacy sequences
// (initialize, notifications/initialized, then requests) and 2026-07-28 requests with `_meta`
// both get deep. The catalog has static tools, resources (text, file, template), prompts and
// an http tool without an upstream; it has no exec tool, so nothing spawns a process.
//
// A message whose params.requestState is the string "SEAL" gets a state sealed with the
// dispatcher's key for that very request (carrying its inputResponses), so that the accepted
// path of multi round-trip retries is reached too.
//
// Invariants: a parse either gives a message or a refusal with id null; every reply to a
// request is a JSON-RPC 2.0 response with that request's id and exactly one of result and
// error (a batch gets an array of such responses), and a well-formed request never ends in
// -32603 (an exception nobody expected); a reply written as transports write it
// (Reply::write) is its tree's serialization, and Reply::has_error agrees with the tree;
// notifications get no reply; every message sent through the session is JSON-RPC 2.0.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/protocol/dispatcher.hpp"
#include "core/protocol/request_state.hpp"

using namespace mcpd::core;
namespace fs = std::filesystem;

namespace {

const std::string k_state_key(32, 'k');

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

std::shared_ptr<const Schema> compile(const json& schema) {
  std::string error;
  auto compiled = Schema::compile(schema, error);
  check(compiled != nullptr, "the fuzz catalog's schemas compile");
  return compiled;
}

ToolDef make_tool(const std::string& name, HandlerSpec handler, json input_schema,
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

ResourceDef make_resource(const std::string& uri, ResourceSource source, std::string mime) {
  ResourceDef resource;
  resource.uri = uri;
  resource.descriptor = {{"uri", uri}, {"name", uri}, {"mimeType", mime}};
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

std::shared_ptr<Catalog> make_catalog(const fs::path& dir) {
  auto catalog = std::make_shared<Catalog>();
  const json greet_schema{
      {"type", "object"},
      {"properties",
       {{"name", {{"type", "string"}, {"minLength", 1}, {"x-mcp-header", "Name"}}},
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
  HttpHandlerSpec http;  // no HttpInvoker: answered with a tool error, no socket
  http.upstream = "django";
  http.path = "/api/{id}";

  const json object{{"type", "object"}};
  catalog->tools.push_back(
      make_tool("greet", text_handler("Hello {name} x{count} [{note}] {other}"), greet_schema));
  catalog->tools.push_back(make_tool("weather", weather, object, weather_output));
  catalog->tools.push_back(make_tool("broken_output", broken, object, weather_output));
  catalog->tools.push_back(make_tool("failing", failing, object, weather_output));
  catalog->tools.push_back(make_tool("remote", http, object));

  catalog->resources.push_back(make_resource("mem://hello", text_source("Hello"), "text/plain"));
  catalog->resources.push_back(
      make_resource("file:///readme", file_source(dir / "readme.md"), "text/markdown"));
  ResourceSource handled;
  handled.handler = text_handler("from the handler");
  catalog->resources.push_back(make_resource("static://handled", handled, "text/plain"));
  catalog->resource_templates.push_back(
      make_template("greet://{who}", {"who"}, text_source("Hi {who}!")));
  catalog->resource_templates.push_back(
      make_template("doc://{name}", {"name"}, file_source(dir / "docs" / "{name}.txt")));

  const json messages = json::array(
      {{{"role", "user"},
        {"content", {{"type", "text"}, {"text", "Summarize order {order_id} in a {tone} tone."}}}}});
  catalog->prompts.push_back(make_prompt(
      "summarize", json::array({{{"name", "order_id"}, {"required", true}}, {{"name", "tone"}}}),
      messages, {{"tone", {"formal", "friendly", "funny", "casual"}}}));
  PromptDef computed = make_prompt("computed", json::array({{{"name", "topic"}}}), nullptr);
  computed.handler = text_handler("About {topic}");
  catalog->prompts.push_back(std::move(computed));
  catalog->index();
  return catalog;
}

struct World {
  fs::path dir;
  std::shared_ptr<Dispatcher> dispatcher;
  RequestStateSealer sealer{k_state_key};
};

World& world() {
  static World* w = [] {
    spdlog::set_level(spdlog::level::off);
    auto* made = new World;
    made->dir = fs::temp_directory_path() / ("mcpd-fuzz-dispatcher-" + std::to_string(::getpid()));
    fs::create_directories(made->dir / "docs");
    std::ofstream(made->dir / "readme.md") << "# Readme\n";
    std::ofstream(made->dir / "docs" / "intro.txt") << "Intro text";
    ExecSettings settings;
    settings.scratch_root = made->dir / "scratch";
    DispatcherOptions options;
    options.page_size = 2;  // so that list cursors matter
    options.state_key = k_state_key;
    made->dispatcher = std::make_shared<Dispatcher>(make_catalog(made->dir),
                                                    std::make_shared<HandlerRunner>(settings),
                                                    std::move(options));
    std::atexit([] { fs::remove_all(world().dir); });
    return made;
  }();
  return *w;
}

// params.requestState == "SEAL": replace it with a state sealed for this request.
void seal_placeholder(json& message) {
  if (!message.is_object() || !message.contains("params")) return;
  json& params = message["params"];
  if (!params.is_object() || params.value("requestState", json()) != "SEAL") return;
  const std::string method = message.value("method", json()).is_string()
                                 ? message["method"].get<std::string>()
                                 : std::string();
  const char* name_key = method == "resources/read" ? "uri" : "name";
  const json name = params.value(name_key, json());
  const json arguments = params.value("arguments", json::object());
  json answers = params.value("inputResponses", json::object());
  if (!answers.is_object()) answers = json::object();
  StateBinding binding{"", method, name.is_string() ? name.get<std::string>() : "",
                       arguments_digest(arguments)};
  params["requestState"] = world().sealer.seal(binding, answers);
}

bool valid_id(const json& id) {
  return id.is_string() || id.is_number_integer() || id.is_number_unsigned() || id.is_null() ||
         id.is_number_float();
}

void check_response(const json& reply) {
  check(reply.is_object(), "a response is an object");
  check(reply.value("jsonrpc", json()) == "2.0", "a response says jsonrpc 2.0");
  check(reply.contains("id") && valid_id(reply["id"]), "a response has an id");
  check(reply.contains("result") != reply.contains("error"),
        "a response has exactly one of result and error");
  if (reply.contains("error")) {
    const json& error = reply["error"];
    check(error.is_object() && error.contains("code") && error["code"].is_number_integer() &&
              error.contains("message") && error["message"].is_string(),
          "an error has an integer code and a message");
  }
  // Replies go out as text: they must serialize (strict UTF-8).
  (void)reply.dump();
}

bool is_request(const json& message) {
  return message.is_object() && message.contains("method") && message.contains("id");
}

void check_reply(const json& message, const std::optional<json>& reply) {
  if (message.is_array()) {
    if (!reply) return;  // a batch of notifications only
    if (reply->is_object()) return check_response(*reply);  // e.g. an empty or refused batch
    check(reply->is_array(), "a batch's reply is an array");
    for (const auto& response : *reply) check_response(response);
    return;
  }
  if (!message.is_object() || !message.contains("method")) {
    if (reply) check_response(*reply);
    return;
  }
  if (!is_request(message)) return;  // notifications: nothing, or an error about them
  if (!reply) {
    // Only a listen stays open without a reply (its acknowledgement went through the session).
    check(message["method"] == "subscriptions/listen", "a request gets a reply");
    return;
  }
  check_response(*reply);
  const json& id = message["id"];
  if ((id.is_string() || id.is_number_integer()) && message["method"].is_string() &&
      message.value("jsonrpc", json()) == "2.0")
    check((*reply)["id"] == id, "the reply to a well-formed request carries its id");
  if (reply->contains("error") && message["method"] != "subscriptions/listen")  // may be full
    check((*reply)["error"]["code"] != -32603,
          "no request ends in an internal error (an exception the handler did not expect)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  Session session([](const json& sent) {
    check(sent.is_object() && sent.value("jsonrpc", json()) == "2.0",
          "messages sent to the client are JSON-RPC 2.0");
    (void)sent.dump();
  });
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);

    Dispatcher::Parsed parsed = w.dispatcher->parse(line);
    if (!parsed.message) {
      check(parsed.refusal.is_object() && parsed.refusal.contains("error") &&
                parsed.refusal["id"].is_null(),
            "a refused parse is an error with id null");
      continue;
    }
    json message = std::move(*parsed.message);
    seal_placeholder(message);
    (void)Dispatcher::may_block(message);
    (void)w.dispatcher->blocks(message);
    std::optional<Reply> answer = w.dispatcher->reply(message, session, "fuzz");
    std::optional<json> reply;
    if (answer) {
      // The reply as transports write it is the tree's serialization.
      std::string written;
      answer->write(written, [](std::string& out, const json& value) {
        out += value.dump(-1, ' ', false, json::error_handler_t::replace);
      });
      const bool has_error = answer->has_error();
      reply = std::move(*answer).to_json();
      check(written == reply->dump(-1, ' ', false, json::error_handler_t::replace),
            "a reply is written as its tree serializes");
      bool error_in_tree = reply->is_object() && reply->contains("error");
      if (reply->is_array())
        for (const auto& element : *reply) error_in_tree = error_in_tree || element.contains("error");
      check(has_error == error_in_tree, "Reply::has_error tells whether the tree holds an error");
    }
    check_reply(message, reply);
  }
  w.dispatcher->subscriptions().end_all(&session);
  return 0;
}
