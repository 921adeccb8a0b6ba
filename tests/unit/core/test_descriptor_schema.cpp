// The JSON Schema that ships for editors (packaging/schema/mcpd-descriptors.schema.json) must
// accept every descriptor mcpd accepts and reject the structural mistakes check-tools reports.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path k_data = fs::path(MCPD_TEST_DATA) / "check-tools";
const fs::path k_root = fs::path(MCPD_TEST_DATA).parent_path().parent_path();

json read_json(const fs::path& file) {
  std::ifstream in(file);
  INFO(file);
  REQUIRE(in);
  return json::parse(in);
}

class DescriptorSchema {
 public:
  DescriptorSchema() {
    m_document = read_json(k_root / "packaging/schema/mcpd-descriptors.schema.json");
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(m_document);
    parser.populateSchema(adapter, m_schema);
  }

  // Empty when valid; otherwise the validator's errors, one per line.
  std::string errors(const json& instance) const {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(instance);
    if (validator.validate(m_schema, adapter, &results)) return {};
    std::string out;
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      std::string where;
      for (const auto& part : error.context) where += part;
      out += where + ": " + error.description + '\n';
    }
    return out.empty() ? "invalid\n" : out;
  }

  const json& document() const { return m_document; }

 private:
  json m_document;
  valijson::Schema m_schema;
};

const DescriptorSchema& schema() {
  static const DescriptorSchema instance;
  return instance;
}

std::vector<fs::path> json_files(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("the descriptor schema is a draft-07 schema", "[core][descriptors][schema]") {
  const json& doc = schema().document();
  CHECK(doc["$schema"] == "http://json-schema.org/draft-07/schema#");
  CHECK(doc["additionalProperties"] == false);
  for (const char* key : {"tools", "resources", "resourceTemplates", "prompts", "$schema"})
    CHECK(doc["properties"].contains(key));
}

TEST_CASE("good descriptors and examples validate", "[core][descriptors][schema]") {
  auto files = json_files(k_data / "good");
  REQUIRE(files.size() >= 2);
  for (const auto& f : json_files(k_root / "examples/tools")) files.push_back(f);
  for (const auto& file : files) {
    INFO(file);
    CHECK(schema().errors(read_json(file)) == "");
  }
}

TEST_CASE("structural mistakes fail the schema", "[core][descriptors][schema]") {
  // Each of these is also a check-tools error; the schema lets editors show it while typing.
  for (const char* name :
       {"unknown_key.json", "unknown_top_key.json", "bad_name.json", "name_too_long.json",
        "missing_description.json", "long_description.json", "input_schema_not_object.json",
        "output_schema_invalid.json", "handler_missing.json", "handler_two_kinds.json",
        "handler_empty.json", "not_an_object.json"}) {
    INFO(name);
    CHECK_FALSE(schema().errors(read_json(k_data / "broken" / name)).empty());
  }
}

TEST_CASE("semantic mistakes are left to check-tools", "[core][descriptors][schema]") {
  // The schema stays permissive where only the loader can judge (placeholders, references,
  // files, warnings), so that it never rejects a descriptor mcpd would serve.
  for (const char* name :
       {"name_dot.json", "name_long_warning.json", "required_unknown.json",
        "unknown_placeholder.json", "unknown_upstream.json", "missing_command.json",
        "missing_resource_file.json", "prompt_unused_argument.json",
        "prompt_undeclared_argument.json", "destructive_hint.json", "hidden_unicode.json",
        "duplicate_in_file.json"}) {
    INFO(name);
    CHECK(schema().errors(read_json(k_data / "broken" / name)) == "");
  }
}

TEST_CASE("handler kinds are exclusive and typed", "[core][descriptors][schema]") {
  const json base = {{"name", "t"},
                     {"description", "d"},
                     {"inputSchema", {{"type", "object"}}},
                     {"handler", {{"exec", {{"command", {"./run", "{x}"}}, {"output", "mcp"}}}}}};
  CHECK(schema().errors({{"tools", {base}}}) == "");

  auto bad_output = base;
  bad_output["handler"]["exec"]["output"] = "xml";
  CHECK_FALSE(schema().errors({{"tools", {bad_output}}}).empty());

  auto shell_string = base;
  shell_string["handler"]["exec"]["command"] = "rm -rf /";
  CHECK_FALSE(schema().errors({{"tools", {shell_string}}}).empty());

  auto unknown_exec_key = base;
  unknown_exec_key["handler"]["exec"]["shell"] = true;
  CHECK_FALSE(schema().errors({{"tools", {unknown_exec_key}}}).empty());

  auto http = base;
  http["handler"] = {{"http", {{"upstream", "django"}, {"path", "/x/{id}"}, {"retry", true}}}};
  CHECK(schema().errors({{"tools", {http}}}) == "");
  http["handler"]["http"].erase("upstream");
  CHECK_FALSE(schema().errors({{"tools", {http}}}).empty());

  auto content_typo = base;
  content_typo["handler"] = {
      {"static", {{"content", {{{"type", "text"}, {"text", "x"}, {"txt", "y"}}}}}}};
  CHECK_FALSE(schema().errors({{"tools", {content_typo}}}).empty());
  content_typo["handler"]["static"]["content"][0].erase("txt");
  CHECK(schema().errors({{"tools", {content_typo}}}) == "");

  const json resource_two_sources = {
      {"resources", {{{"uri", "a://b"}, {"name", "b"}, {"text", "x"}, {"file", "x.md"}}}}};
  CHECK_FALSE(schema().errors(resource_two_sources).empty());
  const json resource_no_source = {{"resources", {{{"uri", "a://b"}, {"name", "b"}}}}};
  CHECK_FALSE(schema().errors(resource_no_source).empty());
}
