#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/descriptors/descriptor.hpp"

namespace fs = std::filesystem;
using namespace mcpd::core;

namespace {

const fs::path k_data = fs::path(MCPD_TEST_DATA) / "descriptors";

// "line:col severity rule" for every diagnostic, in the order reported.
std::vector<std::string> summary(const LoadResult& result) {
  std::vector<std::string> out;
  for (const auto& d : result.diagnostics)
    out.push_back(std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + " " +
                  (d.severity == Severity::error ? "error" : "warning") + " " + d.rule);
  return out;
}

std::string listing(const LoadResult& result) {
  std::ostringstream out;
  for (const auto& d : result.diagnostics)
    out << d.where.file << ":" << d.where.line << ":" << d.where.column << ": "
        << (d.severity == Severity::error ? "error" : "warning") << ": " << d.message << " ["
        << d.rule << "]\n";
  return out.str();
}

const Diagnostic* at(const LoadResult& result, int line, int column, const std::string& rule) {
  for (const auto& d : result.diagnostics)
    if (d.where.line == line && d.where.column == column && d.rule == rule) return &d;
  return nullptr;
}

LoadResult load_broken(const std::string& name, LoadOptions options = {}) {
  return load_descriptors({k_data / "broken" / name}, options);
}

// A scratch directory for descriptors written by a test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "mcpd-desc-XXXXXX").string();
    m_path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path file = m_path / name;
    std::ofstream(file) << text;
    return file;
  }
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

std::string tool_with_description(const std::string& description) {
  return R"({"tools": [{"name": "t", "description": ")" + description +
         R"(", "inputSchema": {"type": "object"}, "handler": {"static": {"content": []}}}]})";
}

}  // namespace

TEST_CASE("good descriptors load without findings", "[core][descriptors]") {
  auto result = load_descriptors({k_data / "good"});
  INFO(listing(result));
  CHECK(result.diagnostics.empty());
  REQUIRE(result.ok());
  REQUIRE(result.files.size() == 2);
  CHECK(fs::path(result.files[0]).filename() == "docs.json");  // sorted
  CHECK(fs::path(result.files[1]).filename() == "shop.json");

  const Catalog& catalog = *result.catalog;
  REQUIRE(catalog.tools.size() == 5);
  CHECK(catalog.tools[0].name == "docs_lookup");
  CHECK(catalog.tools[1].name == "search_products");
  CHECK(catalog.resources.size() == 2);
  CHECK(catalog.resource_templates.size() == 2);
  CHECK(catalog.prompts.size() == 2);
}

TEST_CASE("tool definitions carry what tools/list shows and what handlers need",
          "[core][descriptors]") {
  auto result = load_descriptors({k_data / "good" / "shop.json"});
  REQUIRE(result.ok());
  const Catalog& catalog = *result.catalog;

  const ToolDef* search = catalog.find_tool("search_products");
  REQUIRE(search);
  CHECK_FALSE(search->descriptor.contains("handler"));
  CHECK(search->descriptor["title"] == "Search products");
  CHECK(search->descriptor["inputSchema"]["required"] == nlohmann::json{"query"});
  CHECK(search->defaults == nlohmann::json{{"in_stock", true}, {"limit", 20}});
  CHECK(search->parameters == std::vector<std::string>{"in_stock", "limit", "query"});
  REQUIRE(search->input_schema);
  CHECK_FALSE(search->output_schema);
  CHECK(*search->input_schema->validate({{"query", "x"}, {"limit", 500}}) ==
        "argument 'limit': must be at most 100");
  CHECK(search->where.line == 3);
  CHECK(search->where.column == 5);
  REQUIRE(std::holds_alternative<HttpHandlerSpec>(search->handler));
  const auto& http = std::get<HttpHandlerSpec>(search->handler);
  CHECK(http.upstream == "django");
  CHECK(http.method == "GET");
  CHECK(http.path == "/api/v1/products/");
  CHECK(http.query == nlohmann::json{{"q", "{query}"}, {"limit", "{limit}"}});
  CHECK_FALSE(http.body);

  const ToolDef* report = catalog.find_tool("stock_report");
  REQUIRE(report);
  REQUIRE(report->output_schema);
  const auto& exec = std::get<ExecHandlerSpec>(report->handler);
  const fs::path good = fs::absolute(k_data / "good").lexically_normal();
  CHECK(exec.command[0] == (good / "scripts" / "report.sh").string());
  CHECK(exec.command[1] == "--period={period}");
  CHECK(exec.cwd == good);  // the descriptor's directory by default
  CHECK(exec.env == std::vector<std::string>{"LANG"});
  CHECK(exec.max_output_bytes == 65536);
  CHECK(exec.output == ExecHandlerSpec::Output::text);
  CHECK(report->base_dir == good);

  const auto& adjust = std::get<ExecHandlerSpec>(catalog.find_tool("adjust_stock")->handler);
  CHECK(adjust.command[0] == "python3");  // a bare name is looked up on PATH at run time
  CHECK(adjust.cwd == good / "scripts");
  CHECK(adjust.timeout == std::chrono::milliseconds(10000));
  CHECK(adjust.output == ExecHandlerSpec::Output::json);

  const auto& hours = std::get<StaticHandlerSpec>(catalog.find_tool("shop_hours")->handler);
  CHECK(hours.content[0]["text"] == "Mon-Fri 9-18 {not a placeholder}");
  CHECK_FALSE(hours.is_error);

  CHECK(catalog.find_tool("nope") == nullptr);
}

TEST_CASE("resources, templates and prompts are built", "[core][descriptors]") {
  auto result = load_descriptors({k_data / "good"});
  REQUIRE(result.ok());
  const Catalog& catalog = *result.catalog;
  const fs::path good = fs::absolute(k_data / "good").lexically_normal();

  const ResourceDef* guide = catalog.find_resource("shop://style-guide");
  REQUIRE(guide);
  CHECK(guide->source.file == good / "static" / "style-guide.md");
  CHECK_FALSE(guide->descriptor.contains("file"));
  CHECK(guide->descriptor["mimeType"] == "text/markdown");
  const ResourceDef* motto = catalog.find_resource("shop://motto");
  REQUIRE(motto);
  CHECK(motto->source.text == "Fair prices {always}");

  const ResourceTemplateDef& client = catalog.resource_templates[0];
  CHECK(client.variables == std::vector<std::string>{"client_id"});
  CHECK(client.source.handler.has_value());
  CHECK_FALSE(client.descriptor.contains("handler"));
  const ResourceTemplateDef& docs = catalog.resource_templates[1];
  CHECK(docs.variables == std::vector<std::string>{"section", "page"});
  CHECK(docs.source.file == good / "static" / "{section}" / "{page}.md");

  const PromptDef* summarize = catalog.find_prompt("summarize_order");
  REQUIRE(summarize);
  CHECK_FALSE(summarize->descriptor.contains("messages"));
  CHECK(summarize->descriptor["arguments"][1] == nlohmann::json{{"name", "tone"}});
  CHECK(summarize->completions.at("tone") == std::vector<std::string>{"formal", "friendly", "fun"});
  CHECK(summarize->messages[0]["role"] == "user");
  CHECK(catalog.find_prompt("greeting"));
}

TEST_CASE("JSON syntax errors point at the offending character", "[core][descriptors]") {
  auto result = load_broken("syntax.json");
  INFO(listing(result));
  REQUIRE(result.diagnostics.size() == 1);
  const Diagnostic& d = result.diagnostics[0];
  CHECK(d.rule == "json-syntax");
  CHECK(d.where.line == 3);
  CHECK(d.where.column == 18);
  CHECK(d.message.rfind("invalid JSON: ", 0) == 0);
  CHECK(d.message.find("[json.exception") == std::string::npos);
  CHECK_FALSE(result.ok());
  CHECK(result.catalog);
  CHECK(result.catalog->tools.empty());
}

TEST_CASE("the top level must be an object of known sections", "[core][descriptors]") {
  auto result = load_broken("top_level.json");
  CHECK(summary(result) == std::vector<std::string>{"1:1 error top-level"});

  result = load_broken("duplicate_keys.json");
  INFO(listing(result));
  CHECK(summary(result) ==
        std::vector<std::string>{"5:7 error duplicate-key", "11:3 error unknown-key"});
  CHECK(at(result, 11, 3, "unknown-key")->message.find("did you mean 'prompts'?") !=
        std::string::npos);
}

TEST_CASE("tool fields are checked with positions", "[core][descriptors]") {
  LoadOptions options;
  options.max_description = 40;
  auto result = load_broken("tools.json", options);
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "3:5 error description",
                               "4:15 error tool-name",
                               "5:7 error unknown-key",
                               "10:15 warning tool-name",
                               "11:22 error description",
                               "17:22 error description",
                               "22:15 error duplicate-name",
                               "27:5 error input-schema",
                               "35:31 error input-schema",
                               "44:29 error input-schema",
                               "46:31 error required-unknown",
                               "48:74 error output-schema",
                               "55:39 error annotations",
                               "55:46 error unknown-key",
                               "58:5 error tool",
                           });
  CHECK(at(result, 5, 7, "unknown-key")->message ==
        "unknown key 'descripton' in tool; did you mean 'description'?");
  CHECK(at(result, 17, 22, "description")->message ==
        "description is 60 characters long; the limit is 40");
  CHECK(at(result, 22, 15, "duplicate-name")->message.find("tools.json:16:15") !=
        std::string::npos);
  CHECK(at(result, 44, 29, "input-schema")->message ==
        "inputSchema is not a valid JSON Schema: unknown type 'strnig'; expected one of array, "
        "boolean, integer, null, number, object, string");
  CHECK(at(result, 46, 31, "required-unknown")->message ==
        "required argument 'query' is not declared in properties");
  // Best effort: tools with non-fatal errors are still in the catalog, broken ones are not.
  std::vector<std::string> names;
  for (const auto& tool : result.catalog->tools) names.push_back(tool.name);
  CHECK(names == std::vector<std::string>{"search products", "docs.search", "long_description",
                                          "bad_annotations"});
}

TEST_CASE("handlers are checked field by field", "[core][descriptors]") {
  LoadOptions options;
  options.check_upstreams = true;
  options.upstreams = {"django"};
  auto result = load_broken("handlers.json", options);
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "3:5 error handler",
                               "12:18 error handler",
                               "21:25 error handler",
                               "22:31 error handler",
                               "23:21 error handler",
                               "24:27 error handler",
                               "25:11 error unknown-key",
                               "35:23 error unknown-upstream",
                               "36:21 error handler",
                               "37:19 error handler",
                               "38:29 error handler",
                               "39:23 error handler",
                               "40:20 error handler",
                               "48:51 error content",
                               "48:85 error handler",
                               "54:39 error handler",
                           });
  CHECK(at(result, 35, 23, "unknown-upstream")->message ==
        "unknown upstream 'billing' (configured: 'django')");
  CHECK(at(result, 12, 18, "handler")->message ==
        "handler must have exactly one kind, found \"static\" and \"exec\"");
  CHECK(result.catalog->tools.empty());

  // Without configuration, upstreams are not checked.
  result = load_broken("handlers.json");
  CHECK_FALSE(at(result, 35, 23, "unknown-upstream"));
}

TEST_CASE("placeholders must name declared parameters", "[core][descriptors]") {
  auto result = load_broken("placeholders.json");
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "10:19 error unknown-placeholder",
                               "11:28 error unknown-placeholder",
                               "19:40 error handler",
                               "19:65 error unknown-placeholder",
                               "26:15 error unknown-placeholder",
                               "34:18 warning unused-argument",
                               "37:62 error unknown-placeholder",
                           });
  CHECK(at(result, 10, 19, "unknown-placeholder")->message ==
        "placeholder '{orderId}' is not a parameter of tool 'fetch_order' (declared: "
        "'order_id')");
  CHECK(at(result, 26, 15, "unknown-placeholder")->message ==
        "placeholder '{tenant}' is not a parameter of resource template 'client://{client_id}' "
        "(declared: 'client_id')");
}

TEST_CASE("files, working directories and programs must exist", "[core][descriptors]") {
  auto result = load_broken("files.json");
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "7:40 error missing-file",
                               "13:40 error missing-file",
                               "19:56 error missing-file",
                               "23:52 error missing-file",
                           });
  const fs::path broken = fs::absolute(k_data / "broken").lexically_normal();
  CHECK(at(result, 7, 40, "missing-file")->message ==
        "program '" + (broken / "bin" / "nope.sh").string() + "' does not exist");
  CHECK(at(result, 13, 40, "missing-file")->message.find("is not executable") != std::string::npos);
}

TEST_CASE("resources and templates are checked", "[core][descriptors]") {
  auto result = load_broken("resources.json");
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "3:13 error resource",
                               "4:5 error resource",
                               "5:5 error resource",
                               "6:13 error duplicate-name",
                               "7:13 error resource",
                               "7:62 error unknown-key",
                               "10:21 error resource-template",
                               "11:21 error resource-template",
                               "12:5 error resource-template",
                           });
  CHECK(at(result, 7, 13, "resource")->message.find("percent-encoded") != std::string::npos);
  CHECK(at(result, 10, 21, "resource-template")->message.find("RFC 6570 level 1") !=
        std::string::npos);
}

TEST_CASE("prompts are checked", "[core][descriptors]") {
  auto result = load_broken("prompts.json");
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "6:18 error prompt",
                               "7:9 error prompt",
                               "10:5 error prompt",
                               "12:30 error prompt",
                               "12:63 error prompt",
                               "14:5 error prompt",
                               "15:15 error duplicate-name",
                           });
}

TEST_CASE("tool poisoning and hygiene warnings", "[core][descriptors]") {
  auto result = load_broken("hygiene.json");
  INFO(listing(result));
  CHECK(summary(result) == std::vector<std::string>{
                               "5:22 warning hidden-unicode",
                               "11:22 warning html-comment",
                               "11:22 warning suspicious-instructions",
                               "17:22 warning suspicious-instructions",
                               "22:15 warning destructive-hint",
                               "26:67 warning suspicious-instructions",
                               "38:15 error tool-name",
                               "38:15 warning hidden-unicode",
                           });
  CHECK(at(result, 5, 22, "hidden-unicode")->message.find("U+200B") != std::string::npos);
  CHECK(at(result, 38, 15, "hidden-unicode")->message.find("U+202E") != std::string::npos);
  CHECK(at(result, 17, 22, "suspicious-instructions")->message.find("<important>") !=
        std::string::npos);
}

TEST_CASE("directories: every *.json directly inside, sorted, duplicates across files",
          "[core][descriptors]") {
  const fs::path dir = k_data / "dir";
  auto result = load_descriptors({dir});
  INFO(listing(result));
  REQUIRE(result.files ==
          std::vector<std::string>{(dir / "a.json").string(), (dir / "b.json").string()});
  REQUIRE(summary(result) == std::vector<std::string>{"5:14 error duplicate-name"});
  const Diagnostic& d = result.diagnostics[0];
  CHECK(d.where.file == (dir / "b.json").string());
  CHECK(d.message ==
        "duplicate tool name 'shared' (first defined at " + (dir / "a.json").string() + ":5:14)");
  REQUIRE(result.catalog->tools.size() == 3);
  CHECK(result.catalog->find_tool("shared")->descriptor["description"] == "Shared.");

  // A file given again (also inside a given directory) is loaded once.
  result = load_descriptors({dir, dir / "a.json", dir / "." / "a.json"});
  CHECK(result.files.size() == 2);
  CHECK(result.diagnostics.size() == 1);
}

TEST_CASE("missing paths and empty directories are reported", "[core][descriptors]") {
  const fs::path missing = k_data / "no-such-file.json";
  auto result = load_descriptors({k_data / "empty_dir", missing, k_data / "dir" / "a.json"});
  INFO(listing(result));
  REQUIRE(result.diagnostics.size() == 2);
  CHECK(result.diagnostics[0].rule == "no-descriptors");
  CHECK(result.diagnostics[0].severity == Severity::warning);
  CHECK(result.diagnostics[1].rule == "missing-file");
  CHECK(result.diagnostics[1].where.file == missing.string());
  CHECK(result.diagnostics[1].where.line == 0);
  CHECK_FALSE(result.ok());
  CHECK(result.catalog->tools.size() == 2);
}

TEST_CASE("diagnostics are sorted by file, then position", "[core][descriptors]") {
  auto result =
      load_descriptors({k_data / "broken" / "top_level.json", k_data / "broken" / "syntax.json"});
  REQUIRE(result.diagnostics.size() == 2);
  CHECK(fs::path(result.diagnostics[0].where.file).filename() == "top_level.json");
  CHECK(fs::path(result.diagnostics[1].where.file).filename() == "syntax.json");
}

TEST_CASE("relative descriptor paths resolve against the descriptor's directory",
          "[core][descriptors]") {
  fs::path relative = fs::relative(k_data / "good" / "shop.json");
  REQUIRE(relative.is_relative());
  auto result = load_descriptors({relative});
  INFO(listing(result));
  REQUIRE(result.ok());
  const fs::path good = fs::absolute(k_data / "good").lexically_normal();
  CHECK(result.files[0] == relative.string());
  CHECK(result.catalog->tools[0].base_dir == good);
  CHECK(std::get<ExecHandlerSpec>(result.catalog->find_tool("adjust_stock")->handler).cwd ==
        good / "scripts");
}

TEST_CASE("description length counts characters, not bytes", "[core][descriptors]") {
  TempDir dir;
  std::string exact;
  for (int i = 0; i < 750; ++i) exact += "\xC3\xA9";  // é: two bytes, one character
  auto result = load_descriptors({dir.write("ok.json", tool_with_description(exact))});
  INFO(listing(result));
  CHECK(result.diagnostics.empty());
  result = load_descriptors({dir.write("long.json", tool_with_description(exact + "x"))});
  CHECK(summary(result) == std::vector<std::string>{"1:41 error description"});
}

TEST_CASE("deeply nested descriptors are refused", "[core][descriptors]") {
  TempDir dir;
  std::string deep = R"({"tools": [{"name": "t", "_meta": )" + std::string(100000, '[') +
                     std::string(100000, ']') + "}]}";
  auto result = load_descriptors({dir.write("deep.json", deep)});
  CHECK(summary(result) == std::vector<std::string>{"1:1 error json-syntax"});
}

TEST_CASE("a number no double holds is a syntax error", "[core][descriptors]") {
  TempDir dir;
  auto result = load_descriptors({dir.write("huge.json", R"({"tools": [{"name": "t", "x": 1e400}]})")});
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].rule == "json-syntax");
  CHECK(result.diagnostics[0].severity == Severity::error);
}

TEST_CASE("non-JSON bytes in a descriptor are a syntax error", "[core][descriptors]") {
  TempDir dir;
  auto result =
      load_descriptors({dir.write("latin1.json", "{\"tools\": [{\"name\": \"caf\xE9\"}]}")});
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].rule == "json-syntax");
  CHECK(result.diagnostics[0].where.line == 1);
}

TEST_CASE("template matching: variables never span '/'", "[core][descriptors]") {
  ResourceTemplateDef client;
  client.uri_template = "client://{client_id}";
  CHECK(client.match("client://42") == nlohmann::json{{"client_id", "42"}});
  CHECK(client.match("client://a%20b") == nlohmann::json{{"client_id", "a b"}});
  CHECK(client.match("client://a%2Fb%2") == nlohmann::json{{"client_id", "a/b%2"}});
  CHECK(client.match("client://%zz%41") == nlohmann::json{{"client_id", "%zzA"}});
  CHECK_FALSE(client.match("client://"));
  CHECK_FALSE(client.match("client://42/orders"));
  CHECK_FALSE(client.match("other://42"));

  ResourceTemplateDef docs;
  docs.uri_template = "docs://{section}/{page}.md";
  CHECK(docs.match("docs://guide/intro.md") ==
        nlohmann::json{{"section", "guide"}, {"page", "intro"}});
  CHECK(docs.match("docs://guide/v1.2.md") ==
        nlohmann::json{{"section", "guide"}, {"page", "v1.2"}});
  CHECK_FALSE(docs.match("docs://guide/intro.txt"));
  CHECK_FALSE(docs.match("docs://guide/a/b.md"));
  CHECK_FALSE(docs.match("docs://guide/.md"));

  ResourceTemplateDef pair;
  pair.uri_template = "pair://{a}-{b}";
  CHECK(pair.match("pair://x-y-z") == nlohmann::json{{"a", "x-y"}, {"b", "z"}});

  ResourceTemplateDef broken;
  broken.uri_template = "bad://{+x}";
  CHECK_FALSE(broken.match("bad://x"));
}

TEST_CASE("every reported rule is documented", "[core][descriptors]") {
  std::set<std::string> documented;
  for (const auto& rule : descriptor_rules()) documented.insert(std::string(rule.id));
  std::vector<LoadResult> results;
  for (const char* name :
       {"syntax.json", "top_level.json", "tools.json", "handlers.json", "placeholders.json",
        "files.json", "resources.json", "prompts.json", "hygiene.json", "duplicate_keys.json"}) {
    LoadOptions options;
    options.check_upstreams = true;
    results.push_back(load_broken(name, options));
  }
  results.push_back(load_descriptors({k_data / "empty_dir"}));
  std::set<std::string> seen;
  for (const auto& result : results)
    for (const auto& d : result.diagnostics) seen.insert(d.rule);
  for (const auto& rule : seen) {
    INFO(rule);
    CHECK(documented.count(rule));
  }
  CHECK(seen.size() >= 24);  // the fixtures exercise (nearly) every rule
}

TEST_CASE("empty and oversized files are refused", "[core][descriptors]") {
  TempDir dir;
  auto result = load_descriptors({dir.write("empty.json", "")});
  CHECK(summary(result) == std::vector<std::string>{"1:1 error json-syntax"});
  result = load_descriptors({dir.write("huge.json", "[" + std::string(5 << 20, ' ') + "]")});
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].rule == "json-syntax");
  CHECK(result.diagnostics[0].message == "file is larger than 4 MiB");
}

TEST_CASE("an unknown upstream is reported only when upstreams are known", "[core][descriptors]") {
  TempDir dir;
  fs::path file = dir.write("up.json", R"({"tools": [{"name": "t", "description": "d",
      "inputSchema": {"type": "object"}, "handler": {"http": {"upstream": "crm", "path": "/x"}}}]})");
  CHECK(load_descriptors({file}).diagnostics.empty());
  LoadOptions options;
  options.check_upstreams = true;
  auto result = load_descriptors({file}, options);
  REQUIRE(result.diagnostics.size() == 1);
  CHECK(result.diagnostics[0].message == "unknown upstream 'crm' (no upstreams are configured)");
  options.upstreams = {"crm"};
  CHECK(load_descriptors({file}, options).diagnostics.empty());
}

TEST_CASE("a prompt may compute its messages with a handler", "[core][descriptors]") {
  TempDir dir;
  const fs::path file = dir.write("prompts.json", R"({"prompts": [
    {"name": "computed", "arguments": [{"name": "topic", "required": true}],
     "handler": {"static": {"content": [{"type": "text", "text": "About {topic}"}]}}},
    {"name": "both", "messages": [{"role": "user", "content": {"type": "text", "text": "x"}}],
     "handler": {"static": {"content": []}}},
    {"name": "bad_placeholder", "handler": {"static": {"content": [{"type": "text", "text": "{nope}"}]}}}
  ]})");
  const LoadResult result = load_descriptors({file});
  INFO(listing(result));
  REQUIRE(result.catalog);
  const PromptDef* computed = result.catalog->find_prompt("computed");
  REQUIRE(computed);
  CHECK(computed->handler);
  CHECK_FALSE(computed->descriptor.contains("handler"));
  CHECK(computed->base_dir == file.parent_path());
  CHECK_FALSE(result.catalog->find_prompt("both"));
  CHECK_FALSE(result.catalog->find_prompt("bad_placeholder"));
  CHECK_FALSE(result.ok());
}
