#pragma once
// The in-memory form of descriptor files (PRODUCT.md §3): tools, resources, resource
// templates and prompts, each with its handler. Loading and validating is one code path,
// shared by `serve` (which refuses to start on any error) and `check-tools` (which prints
// every diagnostic).

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/descriptors/schema.hpp"
#include "core/lint/diagnostic.hpp"

namespace mcpd::core {

using json = nlohmann::json;

// handler.static: a fixed CallToolResult with placeholders in its strings.
struct StaticHandlerSpec {
  json content = json::array();            // content blocks (any MCP content type)
  std::optional<json> structured_content;  // optional structuredContent template
  bool is_error = false;                   // "isError"
};

// handler.exec: one program per call, never through a shell.
struct ExecHandlerSpec {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"  // Output::json names the format, not the type
  enum class Output { text, json, mcp };
#pragma GCC diagnostic pop
  std::vector<std::string> command;          // argv; command[0] resolved (see PRODUCT §3)
  std::filesystem::path cwd;                 // absolute; defaults to the descriptor's dir
  std::vector<std::string> env;              // names of parent variables to keep
  std::chrono::milliseconds timeout{30000};  // "timeout_ms"
  std::size_t max_output_bytes = 1 << 20;    // "max_output_bytes": cap on stdout
  Output output = Output::text;
};

// handler.http: a call to a named upstream (executed by the upstream client, transports/upstream).
struct HttpHandlerSpec {
  std::string upstream;
  std::string method = "GET";
  std::string path;
  json query = json::object();
  json headers = json::object();
  std::optional<json> body;
  bool retry = false;  // retry non-idempotent methods too
  std::optional<std::chrono::milliseconds> timeout;
};

using HandlerSpec = std::variant<StaticHandlerSpec, ExecHandlerSpec, HttpHandlerSpec>;

struct ToolDef {
  std::string name;
  json descriptor;  // what tools/list shows: every MCP field, without "handler"
  std::shared_ptr<const Schema> input_schema;   // always set (an object schema)
  std::shared_ptr<const Schema> output_schema;  // null when there is no outputSchema
  std::vector<std::string> parameters;          // inputSchema.properties names
  json defaults = json::object();               // inputSchema.properties.*.default
  HandlerSpec handler;
  SourceLocation where;
  std::filesystem::path base_dir;  // the descriptor file's directory
};

// A resource has exactly one source: inline text, a file, or a handler.
struct ResourceSource {
  std::optional<std::string> text;
  std::optional<std::filesystem::path> file;  // absolute
  std::optional<HandlerSpec> handler;
};

struct ResourceDef {
  std::string uri;
  json descriptor;  // what resources/list shows (uri, name, title, description, mimeType, ...)
  ResourceSource source;
  SourceLocation where;
  std::filesystem::path base_dir;
};

struct ResourceTemplateDef {
  std::string uri_template;            // RFC 6570 level 1: {var}
  json descriptor;                     // what resources/templates/list shows
  std::vector<std::string> variables;  // in order
  ResourceSource source;
  SourceLocation where;
  std::filesystem::path base_dir;

  // Matches a concrete URI; on success returns the variables' values (an object of strings).
  // A variable matches one or more characters other than '/' (so a value never spans path
  // segments); values are returned as they appear in the URI, percent-escapes included.
  // When a split is ambiguous ("{a}-{b}" against "x-y-z"), earlier variables take the most.
  std::optional<json> match(const std::string& uri) const;
};

struct PromptDef {
  std::string name;
  json descriptor;  // what prompts/list shows (name, title, description, arguments, ...)
  json messages;    // PromptMessage templates (when there is no handler)
  // Computes the messages instead (exactly one of messages and handler): its result's
  // structuredContent.messages, else one user message per content block.
  std::optional<HandlerSpec> handler;
  std::filesystem::path base_dir;                               // the descriptor file's directory
  std::map<std::string, std::vector<std::string>> completions;  // argument -> values
  SourceLocation where;
};

// Everything the server offers, loaded from descriptor files. Immutable once built.
class Catalog {
 public:
  std::vector<ToolDef> tools;  // in file order; tools/list pages through it
  std::vector<ResourceDef> resources;
  std::vector<ResourceTemplateDef> resource_templates;
  std::vector<PromptDef> prompts;

  // O(1) lookups; valid after index() is called (load_descriptors does).
  const ToolDef* find_tool(const std::string& name) const;
  const ResourceDef* find_resource(const std::string& uri) const;
  const PromptDef* find_prompt(const std::string& name) const;
  void index();

 private:
  std::unordered_map<std::string, std::size_t> m_tools;
  std::unordered_map<std::string, std::size_t> m_resources;
  std::unordered_map<std::string, std::size_t> m_prompts;
};

struct LoadOptions {
  std::size_t max_description = 750;  // check-tools --max-description
  std::set<std::string> upstreams;    // names of configured upstreams
  bool check_upstreams = false;       // report unknown upstreams (when config is known)
};

struct LoadResult {
  std::shared_ptr<Catalog> catalog;     // set even with errors (best effort)
  std::vector<Diagnostic> diagnostics;  // in file order, then position
  std::vector<std::string> files;       // every descriptor file considered
  bool ok() const { return !has_errors(diagnostics); }
};

// Loads files and directories (every *.json inside a directory, sorted, not recursive).
// Never throws for bad descriptors: every problem becomes a Diagnostic with file:line:col.
// A path given twice (or a file also found in a given directory) is loaded once.
LoadResult load_descriptors(const std::vector<std::filesystem::path>& paths,
                            const LoadOptions& options = {});

// The rules load_descriptors reports, for documentation and SARIF's rule metadata.
struct DescriptorRule {
  std::string_view id;
  Severity severity;  // the usual severity (tool-name is a warning for the spec's wider rule)
  std::string_view summary;
};
const std::vector<DescriptorRule>& descriptor_rules();

}  // namespace mcpd::core
