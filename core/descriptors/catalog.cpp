#include "core/descriptors/descriptor.hpp"

namespace mcpd::core {

namespace {

template <typename Map>
void index_first(Map& map, std::size_t i, const std::string& key) {
  map.emplace(key, i);  // the first definition wins; the loader reports later duplicates
}

}  // namespace

void Catalog::index() {
  m_tools.clear();
  m_resources.clear();
  m_prompts.clear();
  for (std::size_t i = 0; i < tools.size(); ++i) index_first(m_tools, i, tools[i].name);
  for (std::size_t i = 0; i < resources.size(); ++i) index_first(m_resources, i, resources[i].uri);
  for (std::size_t i = 0; i < prompts.size(); ++i) index_first(m_prompts, i, prompts[i].name);
}

const ToolDef* Catalog::find_tool(const std::string& name) const {
  auto it = m_tools.find(name);
  return it == m_tools.end() ? nullptr : &tools[it->second];
}

const ResourceDef* Catalog::find_resource(const std::string& uri) const {
  auto it = m_resources.find(uri);
  return it == m_resources.end() ? nullptr : &resources[it->second];
}

const PromptDef* Catalog::find_prompt(const std::string& name) const {
  auto it = m_prompts.find(name);
  return it == m_prompts.end() ? nullptr : &prompts[it->second];
}

const std::vector<DescriptorRule>& descriptor_rules() {
  using S = Severity;
  static const std::vector<DescriptorRule> rules{
      {"json-syntax", S::error,
       "the file is not valid JSON (or larger than 4 MiB, or nested deeper than 64 levels)"},
      {"duplicate-key", S::error, "an object has the same key twice"},
      {"top-level", S::error,
       "the file must be an object of tools, resources, "
       "resourceTemplates and prompts arrays"},
      {"unknown-key", S::error, "a key that the descriptor format does not define"},
      {"tool", S::error, "a malformed tool field (title, icons, _meta)"},
      {"tool-name", S::error,
       "tool names match ^[A-Za-z0-9_-]{1,64}$ (a warning when only the "
       "MCP specification's wider rule is met)"},
      {"duplicate-name", S::error,
       "two tools or prompts with one name, or two resources or "
       "templates with one URI, across all files"},
      {"description", S::error, "tools need a non-empty description within the length limit"},
      {"input-schema", S::error, "inputSchema must be a valid JSON Schema of type object"},
      {"output-schema", S::error, "outputSchema must be a valid JSON Schema of type object"},
      {"required-unknown", S::error, "a name in \"required\" is not declared in \"properties\""},
      {"annotations", S::error, "annotations are boolean hints (and a title)"},
      {"handler", S::error, "exactly one handler kind (static, exec, http), correctly typed"},
      {"content", S::error, "a malformed content block"},
      {"unknown-placeholder", S::error, "a {placeholder} that names no declared parameter"},
      {"unknown-upstream", S::error, "an http handler names an upstream that is not configured"},
      {"http-header", S::error,
       "an http handler sets a header mcpd sets itself (Authorization, Host, Content-Length, "
       "Transfer-Encoding, Connection, X-MCP-User, X-Correlation-ID)"},
      {"missing-file", S::error,
       "a path that does not exist (descriptor, resource file, exec "
       "cwd or program)"},
      {"resource", S::error, "a malformed resource"},
      {"resource-template", S::error, "a malformed resource template"},
      {"prompt", S::error, "a malformed prompt"},
      {"unused-argument", S::warning, "a prompt argument that no message uses"},
      {"hidden-unicode", S::warning,
       "invisible Unicode (zero-width, bidirectional controls, "
       "tags) in a name, title or description"},
      {"html-comment", S::warning, "an HTML comment in a description"},
      {"suspicious-instructions", S::warning,
       "instruction-like text in a description (tool "
       "poisoning)"},
      {"destructive-hint", S::warning,
       "a delete_/drop_/remove_/destroy_ tool without "
       "annotations.destructiveHint"},
      {"exec-env", S::warning,
       "an exec handler's env passes on one of mcpd's secrets (JWT_SECRET, MCPD_TOKEN, ...) or a "
       "variable that changes what code the child loads (LD_*, PYTHONPATH, NODE_OPTIONS, ...)"},
      {"no-descriptors", S::warning, "a directory without *.json files"},
  };
  return rules;
}

}  // namespace mcpd::core
