// Preparing a schema document for valijson 1.0, which speaks draft-07 only: dialect check,
// 2020-12 keywords rewritten to draft-07 ones, patterns checked, references checked.

#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "core/descriptors/json_locator.hpp"
#include "core/descriptors/schema_internal.hpp"

namespace mcpd::core::schema_detail {

namespace {

constexpr int k_max_depth = 128;

enum class Dialect { unspecified, draft07, v2020 };

std::optional<Dialect> dialect_of(const json& schema, SchemaError& error) {
  if (!schema.is_object() || !schema.contains("$schema")) return Dialect::unspecified;
  std::string uri = schema.at("$schema").get<std::string>();  // the meta-schema made sure
  std::string id = uri;
  for (std::string_view scheme : {"https://", "http://"})
    if (id.rfind(scheme, 0) == 0) id = id.substr(scheme.size());
  while (!id.empty() && id.back() == '#') id.pop_back();
  if (id == "json-schema.org/draft-07/schema" || id == "json-schema.org/draft-06/schema")
    return Dialect::draft07;
  if (id == "json-schema.org/draft/2020-12/schema" || id == "json-schema.org/draft/2019-09/schema")
    return Dialect::v2020;
  error.pointer = "/$schema";
  error.message = "unsupported $schema '" + uri + "'; mcpd reads JSON Schema draft-07 and 2020-12";
  return std::nullopt;
}

bool has_applicators(const json& node) {
  for (const char* keyword : {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref",
                              "dependentSchemas", "dependencies"})
    if (node.contains(keyword)) return true;
  return false;
}

// Keywords that only annotate: a "$ref" next to them needs no rewriting.
bool is_annotation(std::string_view keyword) {
  static const std::set<std::string_view> annotations{
      "$ref",        "$schema", "$id",      "$comment",   "$anchor",  "$defs",     "title",
      "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "definitions"};
  return annotations.count(keyword) > 0;
}

std::string regex_problem(const std::regex_error& e) {
  if (std::string_view(e.what()).find("back-reference") != std::string_view::npos)
    return "back-references are not supported";
  switch (e.code()) {
    case std::regex_constants::error_backref:
      return "back-references are not supported";
    case std::regex_constants::error_brack:
      return "unbalanced '['";
    case std::regex_constants::error_paren:
      return "unbalanced parenthesis";
    case std::regex_constants::error_brace:
      return "unbalanced '{'";
    case std::regex_constants::error_badbrace:
      return "invalid range in '{}'";
    case std::regex_constants::error_escape:
      return "invalid escape";
    case std::regex_constants::error_range:
      return "invalid character range";
    case std::regex_constants::error_badrepeat:
      return "nothing to repeat";
    default:
      return e.what();
  }
}

class Rewriter {
 public:
  Rewriter(Dialect dialect, SchemaError& error) : m_dialect(dialect), m_error(error) {}

  bool node(json& schema, const std::string& pointer, int depth) {
    if (depth > k_max_depth) return fail(pointer, "the schema is nested too deeply");
    if (!schema.is_object()) return true;  // boolean schemas; the meta-schema refused the rest
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      const Slot slot = keyword_slot(it.key(), *it);
      if (slot == Slot::none) continue;  // most keywords: no pointer to build
      std::string at = pointer_append(pointer, it.key());
      switch (slot) {
        case Slot::schema:
          if (!node(*it, at, depth + 1)) return false;
          break;
        case Slot::schema_array:
          for (std::size_t i = 0; i < it->size(); ++i)
            if (!node((*it)[i], pointer_append(at, i), depth + 1)) return false;
          break;
        case Slot::schema_map:
          for (auto member = it->begin(); member != it->end(); ++member)
            if (!node(*member, pointer_append(at, member.key()), depth + 1)) return false;
          break;
        case Slot::none:
          break;
      }
    }
    return rewrite(schema, pointer);
  }

  bool uses_pattern_properties() const { return m_uses_pattern_properties; }

 private:
  bool fail(const std::string& pointer, std::string message) {
    m_error.pointer = pointer;
    m_error.message = std::move(message);
    return false;
  }

  bool check_pattern(const std::string& pattern, const std::string& pointer) {
    try {
      make_pattern_regex(pattern);
      std::regex plain(pattern);  // valijson compiles patternProperties like this
    } catch (const std::regex_error& e) {
      return fail(pointer, "invalid regular expression '" + pattern + "': " + regex_problem(e));
    }
    return true;
  }

  bool rewrite(json& schema, const std::string& pointer) {
    bool applicators = has_applicators(schema);
    for (const char* keyword : {"$dynamicRef", "$recursiveRef"})
      if (schema.contains(keyword))
        return fail(pointer_append(pointer, keyword),
                    std::string("'") + keyword + "' is not supported");
    // "id" means nothing since draft-06, but valijson 1.0 would change the base URI with it.
    if (schema.contains("id") && schema["id"].is_string()) schema.erase("id");

    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
      if (!check_pattern(*it, pointer_append(pointer, "pattern"))) return false;
      schema[std::string(k_pattern_keyword)] = *it;
      schema.erase("pattern");
    }
    if (auto it = schema.find("format"); it != schema.end() && it->is_string()) {
      schema[std::string(k_format_keyword)] = *it;
      schema.erase("format");
    }
    if (auto it = schema.find("patternProperties"); it != schema.end() && it->is_object()) {
      m_uses_pattern_properties = true;
      for (auto member = it->begin(); member != it->end(); ++member)
        if (!check_pattern(
                member.key(),
                pointer_append(pointer_append(pointer, "patternProperties"), member.key())))
          return false;
    }

    if (!rewrite_items(schema, pointer, applicators)) return false;
    if (auto it = schema.find("unevaluatedProperties"); it != schema.end()) {
      if (!applicators && !schema.contains("additionalProperties"))
        schema["additionalProperties"] = *it;
      schema.erase("unevaluatedProperties");
    }
    rewrite_dependencies(schema);
    if (m_dialect != Dialect::draft07) rewrite_ref_siblings(schema);
    return true;
  }

  // prefixItems + items (2020-12) = items array + additionalItems (draft-07).
  bool rewrite_items(json& schema, const std::string& pointer, bool applicators) {
    if (auto prefix = schema.find("prefixItems"); prefix != schema.end()) {
      if (schema.contains("items") && schema["items"].is_array())
        return fail(pointer_append(pointer, "items"),
                    "'items' must be a schema when 'prefixItems' is used");
      json rest = schema.contains("items") ? schema["items"] : json();
      schema["items"] = *prefix;
      schema.erase("prefixItems");
      if (!rest.is_null()) schema["additionalItems"] = std::move(rest);
    }
    if (auto it = schema.find("unevaluatedItems"); it != schema.end()) {
      if (!applicators) {
        if (!schema.contains("items"))
          schema["items"] = *it;
        else if (schema["items"].is_array() && !schema.contains("additionalItems"))
          schema["additionalItems"] = *it;
      }
      schema.erase("unevaluatedItems");
    }
    return true;
  }

  // dependentRequired and dependentSchemas (2019-09) were one keyword, "dependencies".
  static void rewrite_dependencies(json& schema) {
    if (!schema.contains("dependentRequired") && !schema.contains("dependentSchemas")) return;
    json merged = json::object();
    json extra = json::array();
    for (const char* keyword : {"dependentRequired", "dependentSchemas"}) {
      auto it = schema.find(keyword);
      if (it == schema.end()) continue;
      for (auto member = it->begin(); member != it->end(); ++member) {
        if (merged.contains(member.key()))
          extra.push_back({{"dependencies", {{member.key(), *member}}}});
        else
          merged[member.key()] = *member;
      }
      schema.erase(keyword);
    }
    if (schema.contains("dependencies"))
      extra.push_back({{"dependencies", std::move(merged)}});
    else
      schema["dependencies"] = std::move(merged);
    for (auto& item : extra) schema["allOf"].push_back(std::move(item));
  }

  // Since 2019-09 the keywords next to "$ref" apply too; valijson ignores them.
  static void rewrite_ref_siblings(json& schema) {
    if (!schema.contains("$ref")) return;
    bool siblings = false;
    for (auto it = schema.begin(); it != schema.end(); ++it) siblings |= !is_annotation(it.key());
    if (!siblings) return;
    json ref = {{"$ref", schema["$ref"]}};
    schema.erase("$ref");
    schema["allOf"].push_back(std::move(ref));
  }

  Dialect m_dialect;
  SchemaError& m_error;
  bool m_uses_pattern_properties = false;
};

// Every "$ref" must be local and resolve. Counts the references it checked in `refs`.
bool check_refs(const json& root, const json& schema, const std::string& pointer, int depth,
                SchemaError& error, std::size_t& refs) {
  if (!schema.is_object() || depth > k_max_depth) return true;
  if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
    ++refs;
    std::string ref = *it;
    std::string at = pointer_append(pointer, "$ref");
    std::string target;
    if (ref.empty() || ref[0] != '#') {
      error = {"remote reference '" + ref +
                   "' is not supported; use a local reference such as "
                   "'#/$defs/name'",
               at};
      return false;
    }
    bool resolves = false;
    if (ref_to_pointer(ref, target)) {
      try {
        resolves = root.contains(json::json_pointer(target));
      } catch (const json::exception&) {
      }
    } else {
      error = {"reference '" + ref +
                   "' is not supported; use a JSON pointer such as "
                   "'#/$defs/name'",
               at};
      return false;
    }
    if (!resolves) {
      error = {"reference '" + ref + "' does not resolve", at};
      return false;
    }
  }
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const Slot slot = keyword_slot(it.key(), *it);
    if (slot == Slot::none) continue;
    std::string at = pointer_append(pointer, it.key());
    switch (slot) {
      case Slot::schema:
        if (!check_refs(root, *it, at, depth + 1, error, refs)) return false;
        break;
      case Slot::schema_array:
        for (std::size_t i = 0; i < it->size(); ++i)
          if (!check_refs(root, (*it)[i], pointer_append(at, i), depth + 1, error, refs))
            return false;
        break;
      case Slot::schema_map:
        for (auto member = it->begin(); member != it->end(); ++member)
          if (!check_refs(root, *member, pointer_append(at, member.key()), depth + 1, error, refs))
            return false;
        break;
      case Slot::none:
        break;
    }
  }
  return true;
}

// Finds a schema that applies itself to the same value again ({"$ref": "#"} at the root,
// {"allOf": [{"$ref": "#"}]}, two definitions referring to each other, ...). valijson would
// recurse forever on those, while parsing or on every validation. Recursion that goes into a
// property or an item first is fine.
class CycleFinder {
 public:
  explicit CycleFinder(const json& root) : m_root(root) {}

  // The pointer of a "$ref" on a cycle, when there is one.
  std::optional<std::string> find() {
    walk(m_root, "", 0);
    return m_cycle;
  }

 private:
  // Visits every schema position, starting a search from each one not seen yet.
  void walk(const json& schema, const std::string& pointer, int depth) {
    if (m_cycle || !schema.is_object() || depth > k_max_depth) return;
    if (m_state[pointer] == 0) search(schema, pointer);
    for (auto it = schema.begin(); it != schema.end() && !m_cycle; ++it) {
      const Slot slot = keyword_slot(it.key(), *it);
      if (slot == Slot::none) continue;
      std::string at = pointer_append(pointer, it.key());
      switch (slot) {
        case Slot::schema:
          walk(*it, at, depth + 1);
          break;
        case Slot::schema_array:
          for (std::size_t i = 0; i < it->size(); ++i)
            walk((*it)[i], pointer_append(at, i), depth + 1);
          break;
        case Slot::schema_map:
          for (auto member = it->begin(); member != it->end(); ++member)
            walk(*member, pointer_append(at, member.key()), depth + 1);
          break;
        case Slot::none:
          break;
      }
    }
  }

  // Depth-first search along the applicators that apply to the same value.
  bool search(const json& schema, const std::string& pointer) {
    m_state[pointer] = 1;
    bool found = false;
    auto follow = [&](const json& child, const std::string& child_pointer, const std::string& via) {
      if (found || !child.is_object()) return;
      int& state = m_state[child_pointer];
      if (state == 1) {
        m_cycle = via;
        found = true;
      } else if (state == 0) {
        found = search(child, child_pointer);
      }
    };
    for (const char* keyword : {"allOf", "anyOf", "oneOf"}) {
      auto it = schema.find(keyword);
      if (it == schema.end() || !it->is_array()) continue;
      for (std::size_t i = 0; i < it->size(); ++i) {
        std::string at = pointer_append(pointer_append(pointer, keyword), i);
        follow((*it)[i], at, at);
      }
    }
    for (const char* keyword : {"not", "if", "then", "else"}) {
      auto it = schema.find(keyword);
      if (it != schema.end()) follow(*it, pointer_append(pointer, keyword), pointer);
    }
    if (auto it = schema.find("dependencies"); it != schema.end() && it->is_object()) {
      for (auto member = it->begin(); member != it->end(); ++member) {
        std::string at = pointer_append(pointer_append(pointer, "dependencies"), member.key());
        follow(*member, at, at);
      }
    }
    if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
      std::string target;
      if (ref_to_pointer(it->get<std::string>(), target)) {
        json::json_pointer where(target);
        if (m_root.contains(where))
          follow(m_root.at(where), target, pointer_append(pointer, "$ref"));
      }
    }
    m_state[pointer] = 2;
    return found;
  }

  const json& m_root;
  std::map<std::string, int> m_state;  // 0 unseen, 1 on the current path, 2 done
  std::optional<std::string> m_cycle;
};

// The longest prefix of `pointer` (into the rewritten document) that `document` has too.
std::string existing_prefix(const json& document, std::string pointer) {
  while (!pointer.empty()) {
    try {
      if (document.contains(json::json_pointer(pointer))) return pointer;
    } catch (const json::exception&) {
    }
    pointer.erase(pointer.rfind('/'));
  }
  return pointer;
}

bool digits(std::string_view text, std::size_t from, std::size_t count, int& value) {
  if (from + count > text.size()) return false;
  value = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

Slot keyword_slot(std::string_view keyword, const json& value) {
  static const std::set<std::string_view> single{"additionalItems",
                                                 "additionalProperties",
                                                 "contains",
                                                 "else",
                                                 "if",
                                                 "not",
                                                 "propertyNames",
                                                 "then",
                                                 "unevaluatedItems",
                                                 "unevaluatedProperties",
                                                 "contentSchema"};
  static const std::set<std::string_view> arrays{"allOf", "anyOf", "oneOf", "prefixItems"};
  static const std::set<std::string_view> maps{"properties", "patternProperties", "definitions",
                                               "$defs",      "dependentSchemas",  "dependencies"};
  if (keyword == "items") return value.is_array() ? Slot::schema_array : Slot::schema;
  if (single.count(keyword)) return Slot::schema;
  if (arrays.count(keyword) && value.is_array()) return Slot::schema_array;
  if (maps.count(keyword) && value.is_object()) return Slot::schema_map;
  return Slot::none;
}

std::regex make_pattern_regex(const std::string& pattern) {
#if defined(__GLIBCXX__)
  return std::regex(pattern, std::regex::ECMAScript | std::regex_constants::__polynomial);
#else
  return std::regex(pattern, std::regex::ECMAScript);
#endif
}

std::string path_to_pointer(const Path& path) {
  std::string pointer;
  for (const auto& token : path)
    pointer =
        token.is_index ? pointer_append(pointer, token.index) : pointer_append(pointer, token.key);
  return pointer;
}

bool ref_to_pointer(std::string_view ref, std::string& pointer) {
  if (ref.empty() || ref[0] != '#') return false;
  pointer.clear();
  for (std::size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] == '%' && i + 2 < ref.size() &&
        std::isxdigit(static_cast<unsigned char>(ref[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(ref[i + 2]))) {
      pointer += static_cast<char>(std::stoi(std::string(ref.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      pointer += ref[i];
    }
  }
  return pointer.empty() || pointer[0] == '/';
}

const json* resolve_refs(const json& root, const json* node) {
  for (int hops = 0; node && hops < 32; ++hops) {
    if (!node->is_object()) return node;
    auto it = node->find("$ref");
    if (it == node->end() || !it->is_string()) return node;
    std::string pointer;
    if (!ref_to_pointer(it->get<std::string>(), pointer)) return nullptr;
    try {
      json::json_pointer target(pointer);
      if (!root.contains(target)) return nullptr;
      node = &root.at(target);
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  return nullptr;
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "value";
  }
}

RewriteResult rewrite_for_valijson(const json& schema, SchemaError& error) {
  RewriteResult result;
  auto dialect = dialect_of(schema, error);
  if (!dialect) return result;
  // References are checked on the document as written, so that errors point where they are.
  std::size_t refs = 0;
  if (!check_refs(schema, schema, "", 0, error, refs)) return result;
  result.document = schema;
  Rewriter rewriter(*dialect, error);
  if (!rewriter.node(result.document, "", 0)) return result;
  // Without a reference a schema cannot apply itself again: skip the search (most schemas).
  if (auto cycle = refs == 0 ? std::nullopt : CycleFinder(result.document).find()) {
    error = {
        "circular reference: the schema applies itself to the same value without going "
        "into a property or an item",
        existing_prefix(schema, *cycle)};
    return result;
  }
  result.uses_pattern_properties = rewriter.uses_pattern_properties();
  result.ok = true;
  return result;
}

bool is_rfc3339_date(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  if (!digits(text, 0, 4, year) || !digits(text, 5, 2, month) || !digits(text, 8, 2, day))
    return false;
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= k_days[month - 1] + (month == 2 && leap ? 1 : 0);
}

bool is_rfc3339_time(std::string_view text) {
  int hour = 0, minute = 0, second = 0;
  if (text.size() < 9 || text[2] != ':' || text[5] != ':') return false;
  if (!digits(text, 0, 2, hour) || !digits(text, 3, 2, minute) || !digits(text, 6, 2, second))
    return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  std::size_t pos = 8;
  if (text[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  std::string_view offset = text.substr(pos);
  if (offset == "Z" || offset == "z") return true;
  int offset_hour = 0, offset_minute = 0;
  return offset.size() == 6 && (offset[0] == '+' || offset[0] == '-') && offset[3] == ':' &&
         digits(offset, 1, 2, offset_hour) && digits(offset, 4, 2, offset_minute) &&
         offset_hour <= 23 && offset_minute <= 59;
}

bool is_rfc3339_date_time(std::string_view text) {
  std::size_t t = text.find_first_of("Tt");
  return t == 10 && is_rfc3339_date(text.substr(0, t)) && is_rfc3339_time(text.substr(t + 1));
}

}  // namespace mcpd::core::schema_detail
