#pragma once
// Internals of the descriptor loader (loader.cpp and the *_loader.cpp files): the per-file
// checker that turns findings into Diagnostics with positions, and one loader per section.

#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/descriptors/descriptor.hpp"
#include "core/descriptors/json_locator.hpp"

namespace mcpd::core::loader {

using json = nlohmann::json;

// Where a diagnostic about an object member points: its key or its value.
enum class Anchor { value, key };

// The JSON kinds a descriptor field can be required to have.
enum class Kind { string, nonempty_string, boolean, object, array, positive_integer, number };

// One descriptor file being checked: collects diagnostics with file:line:col and resolves
// relative paths against the file's directory.
class FileChecker {
 public:
  FileChecker(std::string file, std::filesystem::path base_dir, const JsonLocator& locator,
              const LoadOptions& options, std::vector<Diagnostic>& out);

  const std::string& file() const { return m_file; }
  const std::filesystem::path& base_dir() const { return m_base_dir; }
  const LoadOptions& options() const { return m_options; }
  std::size_t error_count() const { return m_errors; }

  SourceLocation where(std::string_view pointer, Anchor anchor = Anchor::value) const;
  void error(std::string_view pointer, std::string_view rule, std::string message,
             Anchor anchor = Anchor::value);
  void warning(std::string_view pointer, std::string_view rule, std::string message,
               Anchor anchor = Anchor::value);

  // Reports each member of `object` whose key is not in `allowed` ("unknown-key", at the key),
  // suggesting a near match. `what` names the object in messages ("tool", "exec handler").
  void check_keys(const json& object, std::string_view pointer,
                  std::initializer_list<std::string_view> allowed, std::string_view what);

  // Member `key` of `object` when present with the right kind; nullptr when absent (reported
  // when `required`) or of the wrong kind (always reported), both under `rule`.
  const json* member(const json& object, std::string_view pointer, std::string_view key, Kind kind,
                     std::string_view rule, bool required = false);

  // `path` (relative to the descriptor's directory, or absolute), made absolute and normal.
  std::filesystem::path resolve(const std::string& path) const;

 private:
  void report(Severity severity, std::string_view pointer, std::string_view rule,
              std::string message, Anchor anchor);

  std::string m_file;
  std::filesystem::path m_base_dir;
  const JsonLocator& m_locator;
  const LoadOptions& m_options;
  std::vector<Diagnostic>& m_out;
  std::size_t m_errors = 0;
};

// The names a template may use as {placeholders}, and whose they are (for messages).
struct Declared {
  std::set<std::string> names;
  std::string owner;  // "tool 'search'", "resource template 'client'", ...
  bool known = true;  // false when the declarations themselves are broken: check nothing
};

// Reports every {placeholder} in the strings of `value` that `declared` does not name.
void check_placeholders(FileChecker& checker, const json& value, const std::string& pointer,
                        const Declared& declared);

// Hygiene warnings on names, titles and descriptions (tool poisoning): invisible Unicode
// everywhere; HTML comments and instruction-like text in descriptions.
enum class TextRole { name, title, description, message };
void check_text(FileChecker& checker, const std::string& text, const std::string& pointer,
                TextRole role);
// The same for every "title"/"description" string inside a JSON Schema.
void check_schema_texts(FileChecker& checker, const json& schema, const std::string& pointer);

std::size_t code_points(std::string_view text);
std::string json_kind_name(const json& value);
std::string quoted_list(const std::set<std::string>& names);

// Section loaders. Each reports its own problems and returns the definition when it is
// usable (possibly with non-fatal errors reported), std::nullopt otherwise.
std::optional<HandlerSpec> load_handler(FileChecker& checker, const json& handler,
                                        const std::string& pointer, const Declared& declared);
bool check_content_block(FileChecker& checker, const json& block, const std::string& pointer);
// MCP's Annotations (audience, priority, lastModified) of a content block or resource.
void check_annotations_of(FileChecker& checker, const json& owner, const std::string& pointer,
                          std::string_view rule);
std::optional<ToolDef> load_tool(FileChecker& checker, const json& tool,
                                 const std::string& pointer);
std::optional<ResourceDef> load_resource(FileChecker& checker, const json& resource,
                                         const std::string& pointer);
std::optional<ResourceTemplateDef> load_resource_template(FileChecker& checker,
                                                          const json& resource,
                                                          const std::string& pointer);
std::optional<PromptDef> load_prompt(FileChecker& checker, const json& prompt,
                                     const std::string& pointer);

// RFC 6570 level 1 templates: literal text and {var} expressions.
struct UriTemplatePart {
  bool variable = false;
  std::string text;  // the literal, or the variable's name
};
// Parses `uri_template`; on failure returns std::nullopt and sets `error`.
std::optional<std::vector<UriTemplatePart>> parse_uri_template(std::string_view uri_template,
                                                               std::string& error);
// An absolute URI with a scheme and only characters URIs allow ('%' escapes included).
bool is_valid_uri(std::string_view uri, std::string& error);

}  // namespace mcpd::core::loader
