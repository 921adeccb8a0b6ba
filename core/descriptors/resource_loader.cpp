// Resources and resource templates, URI checks, and template matching.

#include <unistd.h>

#include <cctype>
#include <regex>

#include "core/descriptors/loader_internal.hpp"

namespace mcpd::core {

namespace {

bool is_uri_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~:/?#[]@!$&'()*+,;=").find(c) != std::string_view::npos;
}

// Checks URI characters of `text` (no braces); '%' must start an escape.
bool valid_uri_chars(std::string_view text, std::string& error) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        error = "'%' must start an escape such as %20";
        return false;
      }
      i += 2;
    } else if (!is_uri_char(c)) {
      unsigned char u = static_cast<unsigned char>(c);
      error = u >= 0x80  ? "non-ASCII characters must be percent-encoded"
              : c == ' ' ? "spaces must be percent-encoded (%20)"
                         : std::string("character '") + c + "' is not allowed in a URI";
      return false;
    }
  }
  return true;
}

bool has_scheme(std::string_view text) {
  static const std::regex scheme("[A-Za-z][A-Za-z0-9+.-]*:.*");
  return std::regex_match(text.begin(), text.end(), scheme);
}

// Matches parts[index..] against uri[pos..]; variables take one or more characters other
// than '/', the longest first.
bool match_parts(const std::vector<loader::UriTemplatePart>& parts, std::size_t index,
                 std::string_view uri, std::size_t pos, json& values) {
  if (index == parts.size()) return pos == uri.size();
  const auto& part = parts[index];
  if (!part.variable) {
    if (uri.compare(pos, part.text.size(), part.text) != 0) return false;
    return match_parts(parts, index + 1, uri, pos + part.text.size(), values);
  }
  std::size_t limit = uri.find('/', pos);
  if (limit == std::string_view::npos) limit = uri.size();
  for (std::size_t end = limit; end > pos; --end) {
    if (match_parts(parts, index + 1, uri, end, values)) {
      values[part.text] = std::string(uri.substr(pos, end - pos));
      return true;
    }
  }
  return false;
}

// RFC 6570 simple expansion percent-encodes what is not unreserved, so a matched value is
// decoded back ("a%20b" -> "a b"); a malformed escape stays as it is. Users of the value guard
// what a decoded '/' or NUL could do (file sources refuse them).
std::string percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::optional<json> ResourceTemplateDef::match(const std::string& uri) const {
  std::string error;
  auto parts = loader::parse_uri_template(uri_template, error);
  if (!parts) return std::nullopt;
  json values = json::object();
  if (!match_parts(*parts, 0, uri, 0, values)) return std::nullopt;
  for (auto& value : values) value = percent_decode(value.get<std::string>());
  return values;
}

namespace loader {

bool is_valid_uri(std::string_view uri, std::string& error) {
  if (!has_scheme(uri)) {
    error = "a URI must start with a scheme, such as \"file:\" or \"shop://\"";
    return false;
  }
  return valid_uri_chars(uri, error);
}

std::optional<std::vector<UriTemplatePart>> parse_uri_template(std::string_view text,
                                                               std::string& error) {
  static const std::regex identifier("[A-Za-z_][A-Za-z0-9_]*");
  std::vector<UriTemplatePart> parts;
  std::set<std::string> seen;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find_first_of("{}", pos);
    std::string_view literal =
        text.substr(pos, open == std::string_view::npos ? text.npos : open - pos);
    if (!literal.empty()) {
      if (!valid_uri_chars(literal, error)) return std::nullopt;
      parts.push_back({false, std::string(literal)});
    }
    if (open == std::string_view::npos) break;
    if (text[open] == '}') {
      error = "unmatched '}'";
      return std::nullopt;
    }
    std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      error = "unclosed '{'";
      return std::nullopt;
    }
    std::string name(text.substr(open + 1, close - open - 1));
    if (!std::regex_match(name, identifier)) {
      error = "'{" + name +
              "}' is not supported: only simple {name} variables (RFC 6570 "
              "level 1) are, with names made of letters, digits and '_'";
      return std::nullopt;
    }
    if (!seen.insert(name).second) {
      error = "variable '" + name + "' appears twice";
      return std::nullopt;
    }
    if (!parts.empty() && parts.back().variable) {
      error = "variables '" + parts.back().text + "' and '" + name +
              "' are next to each other, so a URI cannot be split between them";
      return std::nullopt;
    }
    parts.push_back({true, name});
    pos = close + 1;
  }
  if (parts.empty() || parts.front().variable || !has_scheme(parts.front().text)) {
    error = "a URI template must start with a scheme, such as \"client://\"";
    return std::nullopt;
  }
  return parts;
}

namespace {

// text / file / handler: exactly one. `declared` names the template's variables (none for a
// plain resource, whose text is served as is).
bool load_source(FileChecker& c, const json& item, const std::string& ptr, std::string_view rule,
                 const Declared& declared, bool is_template, ResourceSource& source) {
  std::vector<std::string> kinds;
  for (const char* kind : {"text", "file", "handler"})
    if (item.contains(kind)) kinds.push_back(kind);
  if (kinds.size() != 1) {
    c.error(ptr, rule,
            kinds.empty() ? "needs a source: one of \"text\", \"file\" or \"handler\""
                          : "has more than one source (\"" + kinds[0] + "\" and \"" + kinds[1] +
                                "\"); keep one of text, file, handler");
    return false;
  }
  std::size_t errors = c.error_count();
  if (const json* text = c.member(item, ptr, "text", Kind::string, rule)) {
    source.text = text->get<std::string>();
    if (is_template) check_placeholders(c, *text, pointer_append(ptr, "text"), declared);
  } else if (const json* file = c.member(item, ptr, "file", Kind::nonempty_string, rule)) {
    std::string at = pointer_append(ptr, "file");
    source.file = c.resolve(file->get<std::string>());
    if (is_template) check_placeholders(c, *file, at, declared);
    bool fixed = !is_template || file->get<std::string>().find('{') == std::string::npos;
    std::error_code ec;
    if (fixed && !std::filesystem::is_regular_file(*source.file, ec))
      c.error(at, "missing-file", "file '" + source.file->string() + "' does not exist");
    else if (fixed && ::access(source.file->c_str(), R_OK) != 0)
      c.error(at, "missing-file", "file '" + source.file->string() + "' is not readable");
  } else if (auto handler = item.find("handler"); handler != item.end()) {
    source.handler = load_handler(c, *handler, pointer_append(ptr, "handler"), declared);
    if (!source.handler) return false;
  }
  return c.error_count() == errors;
}

void load_common(FileChecker& c, const json& item, const std::string& ptr, std::string_view rule) {
  if (const json* name = c.member(item, ptr, "name", Kind::nonempty_string, rule, true))
    check_text(c, name->get<std::string>(), pointer_append(ptr, "name"), TextRole::name);
  if (const json* title = c.member(item, ptr, "title", Kind::string, rule))
    check_text(c, title->get<std::string>(), pointer_append(ptr, "title"), TextRole::title);
  if (const json* description = c.member(item, ptr, "description", Kind::string, rule))
    check_text(c, description->get<std::string>(), pointer_append(ptr, "description"),
               TextRole::description);
  c.member(item, ptr, "mimeType", Kind::nonempty_string, rule);
  c.member(item, ptr, "_meta", Kind::object, rule);
  c.member(item, ptr, "icons", Kind::array, rule);
  check_annotations_of(c, item, ptr, rule);
}

json descriptor_of(const json& item) {
  json descriptor = item;
  for (const char* source : {"text", "file", "handler"}) descriptor.erase(source);
  return descriptor;
}

}  // namespace

std::optional<ResourceDef> load_resource(FileChecker& c, const json& item, const std::string& ptr) {
  if (!item.is_object()) {
    c.error(ptr, "resource", "a resource must be an object, got " + json_kind_name(item));
    return std::nullopt;
  }
  c.check_keys(item, ptr,
               {"uri", "name", "title", "description", "mimeType", "annotations", "size", "icons",
                "_meta", "text", "file", "handler"},
               "resource");
  std::size_t errors = c.error_count();
  ResourceDef def;
  def.where = c.where(ptr);
  def.base_dir = c.base_dir();
  if (const json* uri = c.member(item, ptr, "uri", Kind::nonempty_string, "resource", true)) {
    def.uri = uri->get<std::string>();
    std::string error;
    if (!is_valid_uri(def.uri, error))
      c.error(pointer_append(ptr, "uri"), "resource", "invalid URI '" + def.uri + "': " + error);
  }
  load_common(c, item, ptr, "resource");
  if (auto size = item.find("size"); size != item.end() && !size->is_number_unsigned() &&
                                     !(size->is_number_integer() && *size >= 0))
    c.error(pointer_append(ptr, "size"), "resource", "'size' must be a non-negative integer");
  Declared none{{}, "resource '" + def.uri + "'"};
  bool source_ok = load_source(c, item, ptr, "resource", none, false, def.source);
  if (!source_ok || c.error_count() != errors) return std::nullopt;
  def.descriptor = descriptor_of(item);
  return def;
}

std::optional<ResourceTemplateDef> load_resource_template(FileChecker& c, const json& item,
                                                          const std::string& ptr) {
  if (!item.is_object()) {
    c.error(ptr, "resource-template",
            "a resource template must be an object, got " + json_kind_name(item));
    return std::nullopt;
  }
  c.check_keys(item, ptr,
               {"uriTemplate", "name", "title", "description", "mimeType", "annotations", "icons",
                "_meta", "text", "file", "handler"},
               "resource template");
  std::size_t errors = c.error_count();
  ResourceTemplateDef def;
  def.where = c.where(ptr);
  def.base_dir = c.base_dir();
  Declared declared{{}, "resource template", false};
  if (const json* uri =
          c.member(item, ptr, "uriTemplate", Kind::nonempty_string, "resource-template", true)) {
    def.uri_template = uri->get<std::string>();
    declared.owner = "resource template '" + def.uri_template + "'";
    std::string error;
    if (auto parts = parse_uri_template(def.uri_template, error)) {
      declared.known = true;
      for (const auto& part : *parts) {
        if (!part.variable) continue;
        def.variables.push_back(part.text);
        declared.names.insert(part.text);
      }
    } else {
      c.error(pointer_append(ptr, "uriTemplate"), "resource-template",
              "invalid URI template '" + def.uri_template + "': " + error);
    }
  }
  load_common(c, item, ptr, "resource-template");
  bool source_ok = load_source(c, item, ptr, "resource-template", declared, true, def.source);
  if (!source_ok || c.error_count() != errors) return std::nullopt;
  def.descriptor = descriptor_of(item);
  return def;
}

}  // namespace loader
}  // namespace mcpd::core
