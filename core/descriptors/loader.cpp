// load_descriptors: the one code path behind `serve` and `check-tools`. Finds the files, parses
// each with positions, checks every section, and builds the Catalog.

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/descriptors/loader_internal.hpp"

namespace mcpd::core {

namespace fs = std::filesystem;
using loader::FileChecker;

namespace {

constexpr std::size_t k_max_file_size = 4 << 20;  // descriptors are written by hand
constexpr std::size_t k_max_depth = 64;

Diagnostic file_diagnostic(Severity severity, const std::string& file, std::string message,
                           std::string rule) {
  return Diagnostic{severity, SourceLocation{file, 0, 0}, std::move(message), std::move(rule)};
}

// The descriptor files named by `paths`, in order; problems with the paths themselves go to
// `diagnostics`. `order` lists every path and file in the order considered, for sorting.
std::vector<std::string> expand_paths(const std::vector<fs::path>& paths,
                                      std::vector<Diagnostic>& diagnostics,
                                      std::vector<std::string>& order) {
  std::vector<std::string> files;
  std::vector<fs::path> seen;
  auto add = [&](const fs::path& path) {
    std::error_code ec;
    fs::path identity = fs::weakly_canonical(path, ec);
    if (ec) identity = fs::absolute(path).lexically_normal();
    if (std::find(seen.begin(), seen.end(), identity) != seen.end()) return;
    seen.push_back(identity);
    files.push_back(path.string());
    order.push_back(path.string());
  };
  for (const auto& path : paths) {
    order.push_back(path.string());
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
      diagnostics.push_back(file_diagnostic(Severity::error, path.string(),
                                            "no such file or directory", "missing-file"));
    } else if (fs::is_directory(status)) {
      std::vector<fs::path> entries;
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->path().extension() == ".json" && it->is_regular_file(type_ec))
          entries.push_back(it->path());
      }
      if (ec)
        diagnostics.push_back(file_diagnostic(Severity::error, path.string(),
                                              "cannot list directory: " + ec.message(),
                                              "missing-file"));
      std::sort(entries.begin(), entries.end());
      if (entries.empty() && !ec)
        diagnostics.push_back(file_diagnostic(Severity::warning, path.string(),
                                              "directory has no *.json descriptor files",
                                              "no-descriptors"));
      for (const auto& entry : entries) add(entry);
    } else if (fs::is_regular_file(status)) {
      add(path);
    } else {
      diagnostics.push_back(file_diagnostic(Severity::error, path.string(),
                                            "not a regular file or directory", "missing-file"));
    }
  }
  return files;
}

// Reads a descriptor file; on failure sets `error` and the rule to report it under.
bool read_file(const std::string& file, std::string& text, std::string& error, std::string& rule) {
  rule = "missing-file";
  std::error_code ec;
  std::uintmax_t size = fs::file_size(file, ec);
  if (!ec && size > k_max_file_size) {
    error = "file is larger than 4 MiB";
    rule = "json-syntax";
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream buffer;
  if (in) buffer << in.rdbuf();
  if (!in || in.bad()) {
    error = "cannot read file";
    return false;
  }
  text = buffer.str();
  return true;
}

// "syntax error while parsing value - invalid literal; last read: 'x'" from nlohmann's
// "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ...".
std::string parse_error_text(const std::string& what) {
  std::size_t colon = what.find(": ");
  std::size_t column = what.find("column ");
  if (column != std::string::npos) colon = what.find(": ", column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// Names already defined, across files, for duplicate-name.
struct Seen {
  std::map<std::string, SourceLocation> tools, prompts, resources, templates;
};

std::string location_text(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

// True when `key` is new in `seen`; otherwise reports a duplicate at `pointer`.
bool first_definition(FileChecker& c, std::map<std::string, SourceLocation>& seen, const json& item,
                      const char* key, const std::string& pointer, std::string_view what) {
  if (!item.is_object() || !item.contains(key) || !item[key].is_string()) return true;
  std::string name = item[key].get<std::string>();
  std::string at = pointer_append(pointer, key);
  auto [it, inserted] = seen.emplace(name, c.where(at));
  if (inserted) return true;
  c.error(at, "duplicate-name",
          "duplicate " + std::string(what) + " '" + name + "' (first defined at " +
              location_text(it->second) + ")");
  return false;
}

template <typename Def, typename Load>
void load_section(FileChecker& c, const json& document, const char* section, Load load,
                  std::vector<Def>& out, std::map<std::string, SourceLocation>& seen,
                  const char* key, std::string_view what) {
  auto it = document.find(section);
  if (it == document.end()) return;
  std::string pointer = pointer_append("", section);
  if (!it->is_array()) {
    c.error(pointer, "top-level",
            "'" + std::string(section) + "' must be an array, got " + loader::json_kind_name(*it));
    return;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    std::string item_pointer = pointer_append(pointer, i);
    bool first = first_definition(c, seen, item, key, item_pointer, what);
    auto def = load(c, item, item_pointer);
    if (def && first) out.push_back(std::move(*def));
  }
}

void load_file(const std::string& file, const LoadOptions& options, Catalog& catalog, Seen& seen,
               std::vector<Diagnostic>& diagnostics) {
  std::string text, error, rule;
  if (!read_file(file, text, error, rule)) {
    diagnostics.push_back(file_diagnostic(Severity::error, file, error, rule));
    return;
  }
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    // parse_error::byte counts the characters read, the offending one included.
    TextPosition at = JsonLocator::position_at(text, e.byte > 0 ? e.byte - 1 : 0);
    diagnostics.push_back(Diagnostic{Severity::error, SourceLocation{file, at.line, at.column},
                                     "invalid JSON: " + parse_error_text(e.what()), "json-syntax"});
    return;
  } catch (const json::out_of_range& e) {  // a number no double holds (1e400): no position
    diagnostics.push_back(Diagnostic{Severity::error, SourceLocation{file, 0, 0},
                                     "invalid JSON: " + parse_error_text(e.what()), "json-syntax"});
    return;
  }
  JsonLocator locator(text);
  fs::path base_dir = fs::absolute(fs::path(file)).lexically_normal().parent_path();
  FileChecker c(file, base_dir, locator, options, diagnostics);
  if (locator.max_depth() > k_max_depth) {
    c.error("", "json-syntax", "JSON nests deeper than " + std::to_string(k_max_depth) + " levels");
    return;
  }
  for (const auto& duplicate : locator.duplicate_keys())
    diagnostics.push_back(Diagnostic{
        Severity::error, SourceLocation{file, duplicate.position.line, duplicate.position.column},
        "duplicate key '" + duplicate.pointer.substr(duplicate.pointer.rfind('/') + 1) +
            "' (only the last one would count)",
        "duplicate-key"});
  if (!document.is_object()) {
    c.error("", "top-level",
            "a descriptor file must be a JSON object with \"tools\", \"resources\", "
            "\"resourceTemplates\" or \"prompts\", got " +
                loader::json_kind_name(document));
    return;
  }
  c.check_keys(document, "", {"$schema", "tools", "resources", "resourceTemplates", "prompts"},
               "descriptor file");
  c.member(document, "", "$schema", loader::Kind::string, "top-level");

  load_section(c, document, "tools", loader::load_tool, catalog.tools, seen.tools, "name",
               "tool name");
  load_section(c, document, "resources", loader::load_resource, catalog.resources, seen.resources,
               "uri", "resource URI");
  load_section(c, document, "resourceTemplates", loader::load_resource_template,
               catalog.resource_templates, seen.templates, "uriTemplate", "resource template");
  load_section(c, document, "prompts", loader::load_prompt, catalog.prompts, seen.prompts, "name",
               "prompt name");
}

}  // namespace

LoadResult load_descriptors(const std::vector<fs::path>& paths, const LoadOptions& options) {
  LoadResult result;
  auto catalog = std::make_shared<Catalog>();
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> order;
  result.files = expand_paths(paths, diagnostics, order);
  Seen seen;
  for (const auto& file : result.files) load_file(file, options, *catalog, seen, diagnostics);
  catalog->index();

  // By file in the order considered, then by position; the sort is stable, so findings at
  // one position keep the order they were found in.
  std::map<std::string, std::size_t> rank;
  for (const auto& name : order) rank.emplace(name, rank.size());
  auto rank_of = [&](const std::string& file) {
    auto it = rank.find(file);
    return it == rank.end() ? rank.size() : it->second;
  };
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     std::size_t fa = rank_of(a.where.file), fb = rank_of(b.where.file);
                     if (fa != fb) return fa < fb;
                     if (a.where.line != b.where.line) return a.where.line < b.where.line;
                     return a.where.column < b.where.column;
                   });
  result.diagnostics = std::move(diagnostics);
  result.catalog = std::move(catalog);
  return result;
}

}  // namespace mcpd::core
