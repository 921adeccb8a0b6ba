#include "core/descriptors/schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "core/descriptors/json_locator.hpp"
#include "core/descriptors/schema_internal.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::core {

using namespace schema_detail;

namespace {

// Object keys longer than this are refused before validation when the schema has
// patternProperties: valijson matches those with a recursive std::regex.
constexpr std::size_t k_max_key_length = 256;

constexpr std::string_view k_simple_types = "array, boolean, integer, null, number, object, string";

bool is_integral_float(const json& value) {
  if (!value.is_number_float()) return false;
  double d = value.get<double>();
  return std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9007199254740992.0;
}

bool has_integral_float(const json& value) {
  if (is_integral_float(value)) return true;
  if (value.is_array() || value.is_object())
    for (const auto& item : value)
      if (has_integral_float(item)) return true;
  return false;
}

// JSON Schema counts 5.0 as an integer; valijson does not, so validate 5 instead.
json with_integral_floats_as_integers(const json& value) {
  if (is_integral_float(value)) return json(static_cast<std::int64_t>(value.get<double>()));
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(with_integral_floats_as_integers(item));
    return out;
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it)
      out[it.key()] = with_integral_floats_as_integers(*it);
    return out;
  }
  return value;
}

const std::string* find_long_key(const json& value, std::size_t limit) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key().size() > limit) return &it.key();
      if (auto found = find_long_key(*it, limit)) return found;
    }
  } else if (value.is_array()) {
    for (const auto& item : value)
      if (auto found = find_long_key(item, limit)) return found;
  }
  return nullptr;
}

std::string display_path(const Path& path) {
  std::string out;
  for (const auto& token : path) {
    if (token.is_index) {
      out += '[' + std::to_string(token.index) + ']';
    } else {
      if (!out.empty()) out += '.';
      out += token.key;
    }
  }
  return out;
}

std::string render(const Finding& finding, std::string_view noun) {
  std::string where = display_path(finding.path);
  std::string n(noun);
  switch (finding.kind) {
    case Finding::Kind::missing:
      return "missing required " + n + " '" + where + "'" +
             (finding.detail.empty() ? "" : " (" + finding.detail + ")");
    case Finding::Kind::unexpected:
      return "unexpected " + n + " '" + where + "'";
    case Finding::Kind::value:
      break;
  }
  if (where.empty()) return n + "s: " + finding.detail;
  return n + " '" + where + "': " + finding.detail;
}

// True when the last step of `path` is a keyword of a schema object (not a property name,
// not a position inside data such as "enum").
bool ends_at_keyword(const json& document, const Path& path) {
  enum class At { schema, schema_array, schema_map, data } at = At::schema;
  const json* node = &document;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const Token& token = path[i];
    const json* next = nullptr;
    if (token.is_index && node->is_array() && token.index < node->size())
      next = &(*node)[token.index];
    else if (!token.is_index && node->is_object() && node->contains(token.key))
      next = &node->at(token.key);
    if (!next) return false;
    if (at == At::schema) {
      if (i + 1 == path.size()) return !token.is_index;
      switch (keyword_slot(token.key, *next)) {
        case Slot::schema:
          at = At::schema;
          break;
        case Slot::schema_array:
          at = At::schema_array;
          break;
        case Slot::schema_map:
          at = At::schema_map;
          break;
        case Slot::none:
          at = At::data;
          break;
      }
    } else if (at == At::schema_array || at == At::schema_map) {
      at = At::schema;
    }
    node = next;
  }
  return false;
}

std::string type_keyword_message(const json& value) {
  static const std::vector<std::string> known{"array",  "boolean", "integer", "null",
                                              "number", "object",  "string"};
  auto is_known = [&](const json& t) {
    return t.is_string() &&
           std::find(known.begin(), known.end(), t.get<std::string>()) != known.end();
  };
  std::string expected = "expected one of " + std::string(k_simple_types);
  if (value.is_string()) return "unknown type '" + value.get<std::string>() + "'; " + expected;
  if (value.is_array()) {
    if (value.empty()) return "'type' must list at least one type";
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) return "'type' must list type names; " + expected;
      if (!is_known(value[i]))
        return "unknown type '" + value[i].get<std::string>() + "'; " + expected;
      for (std::size_t j = 0; j < i; ++j)
        if (value[j] == value[i]) return "'type' lists '" + value[i].get<std::string>() + "' twice";
    }
  }
  return "'type' must be a type name or an array of them; " + expected;
}

// Checks `schema` against the meta-schema; on failure fills `error` with the deepest problem.
bool check_meta_schema(const json& schema, SchemaError& error) {
  valijson::adapters::NlohmannJsonAdapter adapter(schema);
  {
    valijson::Validator validator;
    if (validator.validate(meta_schema(), adapter, nullptr)) return true;
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  validator.validate(meta_schema(), adapter, &results);
  Finding finding = explain(results, schema, meta_schema_document());
  error.pointer = path_to_pointer(finding.path);
  bool keyword = ends_at_keyword(schema, finding.path);
  if (keyword && finding.path.back().key == "type") {
    json::json_pointer pointer(error.pointer);
    error.message = type_keyword_message(schema.at(pointer));
  } else if (keyword) {
    error.message = "'" + finding.path.back().key + "': " + finding.detail;
  } else if (finding.path.empty()) {
    error.message = "the schema " + finding.detail;
  } else {
    error.message = "not a valid schema: " + finding.detail;
  }
  return false;
}

// --- Constraints of our own, replacing valijson's regex-based "pattern" and "format". ---

class PatternCheck final : public valijson::constraints::PolyConstraint {
 public:
  explicit PatternCheck(std::string source)
      : m_source(std::move(source)),
        m_regex(std::make_shared<const std::regex>(make_pattern_regex(m_source))) {}

  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    std::string text = target.asString();
    if (std::regex_search(text, *m_regex)) return true;
    if (results)
      results->pushError(context,
                         std::string(k_final_marker) + "must match the pattern '" + m_source + "'");
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override { return new (memory) PatternCheck(*this); }
  std::size_t sizeOf() const override { return sizeof(PatternCheck); }

  std::string m_source;
  std::shared_ptr<const std::regex> m_regex;  // const regexes may be shared across threads
};

class FormatCheck final : public valijson::constraints::PolyConstraint {
 public:
  explicit FormatCheck(std::string format) : m_format(std::move(format)) {}

  bool validate(const valijson::adapters::Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) return true;
    std::string text = target.asString();
    std::string_view expected;
    if (m_format == "date" && !is_rfc3339_date(text)) {
      expected = "a date (YYYY-MM-DD)";
    } else if (m_format == "time" && !is_rfc3339_time(text)) {
      expected = "a time (HH:MM:SS with a UTC offset, e.g. 14:30:00Z)";
    } else if (m_format == "date-time" && !is_rfc3339_date_time(text)) {
      expected = "a date-time (e.g. 2025-01-31T14:30:00Z)";
    }
    if (expected.empty()) return true;
    if (results)
      results->pushError(context, std::string(k_final_marker) + "must be " + std::string(expected));
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override { return new (memory) FormatCheck(*this); }
  std::size_t sizeOf() const override { return sizeof(FormatCheck); }

  std::string m_format;
};

class PatternBuilder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    return new PatternCheck(value.asString());
  }
};

class FormatBuilder final : public valijson::ConstraintBuilder {
 public:
  valijson::constraints::Constraint* make(const valijson::adapters::Adapter& value) const override {
    return new FormatCheck(value.asString());
  }
};

// Most tool schemas are a handful of typed properties. For those, a valid instance is
// confirmed here without valijson (whose visitor copies its context and builds a set of names
// for every object, 7 allocations for a one-property object). Only "valid" is ever decided
// here: anything else goes to valijson, which gives the verdict and the message. So the subset
// must be understood exactly: type, properties, required, additionalProperties as a boolean,
// items as one schema, enum of strings, minLength and maxLength, and annotations. Any other
// keyword (format, numeric bounds, $ref, boolean subschemas, ...) leaves the schema to
// valijson alone.
struct SimpleSchema {
  enum Type : unsigned {
    k_array = 1,
    k_boolean = 2,
    k_integer = 4,
    k_null = 8,
    k_number = 16,
    k_object = 32,
    k_string = 64
  };
  unsigned types = 0;  // 0: any type
  // Sorted by name. Held by pointer: the type is incomplete here.
  std::vector<std::pair<std::string, std::unique_ptr<SimpleSchema>>> properties;
  std::vector<std::string> required;
  bool additional = true;
  std::unique_ptr<SimpleSchema> items;
  std::optional<std::vector<std::string>> enum_strings;
  std::optional<std::uint64_t> min_length, max_length;  // in code points
};

// The length valijson gives a string (utils::u8_strlen: code points, up to a NUL byte), when
// it is certainly that: valid UTF-8 without NUL bytes. nullopt otherwise.
std::optional<std::uint64_t> code_points(std::string_view text) {
  std::uint64_t count = 0;
  while (!text.empty()) {
    const std::size_t length = utf8_sequence_length(text);
    if (length == 0 || text.front() == '\0') return std::nullopt;
    text.remove_prefix(length);
    ++count;
  }
  return count;
}

std::optional<unsigned> simple_type(const json& name) {
  if (!name.is_string()) return std::nullopt;
  const auto& n = name.get_ref<const std::string&>();
  if (n == "array") return SimpleSchema::k_array;
  if (n == "boolean") return SimpleSchema::k_boolean;
  if (n == "integer") return SimpleSchema::k_integer;
  if (n == "null") return SimpleSchema::k_null;
  if (n == "number") return SimpleSchema::k_number;
  if (n == "object") return SimpleSchema::k_object;
  if (n == "string") return SimpleSchema::k_string;
  return std::nullopt;
}

std::unique_ptr<SimpleSchema> simple_schema(const json& schema, int depth = 0) {
  if (!schema.is_object() || depth > 32) return nullptr;
  auto out = std::make_unique<SimpleSchema>();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    const json& value = *it;
    if (key == "title" || key == "description" || key == "default" || key == "examples" ||
        key == "$comment" || key == "deprecated" || key == "readOnly" || key == "writeOnly" ||
        key == "$schema") {
      continue;
    }
    if (key == "type") {
      if (value.is_string()) {
        const auto type = simple_type(value);
        if (!type) return nullptr;
        out->types = *type;
      } else if (value.is_array() && !value.empty()) {
        for (const auto& name : value) {
          const auto type = simple_type(name);
          if (!type) return nullptr;
          out->types |= *type;
        }
      } else {
        return nullptr;
      }
    } else if (key == "properties") {
      if (!value.is_object()) return nullptr;
      for (auto property = value.begin(); property != value.end(); ++property) {
        auto sub = simple_schema(*property, depth + 1);
        if (!sub) return nullptr;
        out->properties.emplace_back(property.key(), std::move(sub));
      }
      // nlohmann's objects iterate in key order already; sorted here all the same.
      std::sort(out->properties.begin(), out->properties.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    } else if (key == "required") {
      if (!value.is_array()) return nullptr;
      for (const auto& name : value) {
        if (!name.is_string()) return nullptr;
        out->required.push_back(name.get<std::string>());
      }
    } else if (key == "additionalProperties") {
      if (!value.is_boolean()) return nullptr;
      out->additional = value.get<bool>();
    } else if (key == "items") {
      out->items = simple_schema(value, depth + 1);
      if (!out->items) return nullptr;
    } else if (key == "minLength" || key == "maxLength") {
      if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0))
        return nullptr;
      (key == "minLength" ? out->min_length : out->max_length) = value.get<std::uint64_t>();
    } else if (key == "enum") {
      if (!value.is_array() || value.empty()) return nullptr;
      out->enum_strings.emplace();
      for (const auto& item : value) {
        if (!item.is_string()) return nullptr;
        out->enum_strings->push_back(item.get<std::string>());
      }
    } else {
      return nullptr;
    }
  }
  return out;
}

bool has_type(unsigned types, const json& value) {
  if (types == 0) return true;
  switch (value.type()) {
    case json::value_t::array:
      return types & SimpleSchema::k_array;
    case json::value_t::boolean:
      return types & SimpleSchema::k_boolean;
    case json::value_t::null:
      return types & SimpleSchema::k_null;
    case json::value_t::object:
      return types & SimpleSchema::k_object;
    case json::value_t::string:
      return types & SimpleSchema::k_string;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return types & (SimpleSchema::k_integer | SimpleSchema::k_number);
    case json::value_t::number_float:
      return (types & SimpleSchema::k_number) ||
             ((types & SimpleSchema::k_integer) && is_integral_float(value));
    default:
      return false;
  }
}

// True only when `value` is certainly valid against `schema`.
bool accepts(const SimpleSchema& schema, const json& value) {
  if (!has_type(schema.types, value)) return false;
  if (schema.enum_strings) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (std::find(schema.enum_strings->begin(), schema.enum_strings->end(), text) ==
        schema.enum_strings->end())
      return false;
  }
  if (value.is_string() && (schema.min_length || schema.max_length)) {
    const auto length = code_points(value.get_ref<const std::string&>());
    if (!length) return false;
    if (schema.min_length && *length < *schema.min_length) return false;
    if (schema.max_length && *length > *schema.max_length) return false;
  }
  if (value.is_object()) {
    for (const auto& name : schema.required)
      if (!value.contains(name)) return false;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const auto property = std::lower_bound(
          schema.properties.begin(), schema.properties.end(), it.key(),
          [](const auto& entry, const std::string& name) { return entry.first < name; });
      if (property == schema.properties.end() || property->first != it.key()) {
        if (!schema.additional) return false;
      } else if (!accepts(*property->second, *it)) {
        return false;
      }
    }
  } else if (value.is_array() && schema.items) {
    for (const auto& item : value)
      if (!accepts(*schema.items, item)) return false;
  }
  return true;
}

}  // namespace

struct Schema::Impl {
  valijson::Schema compiled;
  json effective;  // the rewritten document valijson compiled; explains failures
  bool guard_keys = false;
  std::unique_ptr<SimpleSchema> simple;  // when the schema is in the subset accepts() knows
};

Schema::Schema(json document, std::unique_ptr<Impl> impl)
    : m_document(std::move(document)), m_impl(std::move(impl)) {}

Schema::~Schema() = default;

std::shared_ptr<const Schema> Schema::compile(const json& schema, std::string& error) {
  SchemaError detail;
  auto compiled = compile(schema, detail);
  if (!compiled)
    error =
        detail.pointer.empty() ? detail.message : "at '" + detail.pointer + "': " + detail.message;
  return compiled;
}

std::shared_ptr<const Schema> Schema::compile(const json& schema, SchemaError& error) {
  error = {};
  if (!schema.is_object() && !schema.is_boolean()) {
    error.message = "a JSON Schema must be an object or a boolean, got " + type_name(schema);
    return nullptr;
  }
  if (!check_meta_schema(schema, error)) return nullptr;

  auto impl = std::make_unique<Impl>();
  RewriteResult rewritten = rewrite_for_valijson(schema, error);
  if (!rewritten.ok) return nullptr;
  impl->effective = std::move(rewritten.document);
  impl->guard_keys = rewritten.uses_pattern_properties;
  impl->simple = simple_schema(impl->effective);

  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    auto pattern = std::make_unique<PatternBuilder>();
    parser.addConstraintBuilder(std::string(k_pattern_keyword), pattern.get());
    pattern.release();  // owned by the parser now
    auto format = std::make_unique<FormatBuilder>();
    parser.addConstraintBuilder(std::string(k_format_keyword), format.get());
    format.release();
    valijson::adapters::NlohmannJsonAdapter adapter(impl->effective);
    parser.populateSchema(adapter, impl->compiled);
  } catch (const std::exception& e) {
    error.message = e.what();
    return nullptr;
  }
  return std::shared_ptr<const Schema>(new Schema(schema, std::move(impl)));
}

std::optional<std::string> Schema::validate(const json& instance, std::string_view noun) const {
  if (m_impl->simple && accepts(*m_impl->simple, instance)) return std::nullopt;
  json normalized;
  const json* target = &instance;
  if (has_integral_float(instance)) {
    normalized = with_integral_floats_as_integers(instance);
    target = &normalized;
  }
  if (m_impl->guard_keys) {
    if (const std::string* key = find_long_key(*target, k_max_key_length))
      return "a " + std::string(noun) + " name is longer than " + std::to_string(k_max_key_length) +
             " characters ('" + key->substr(0, 32) + "...')";
  }
  try {
    valijson::adapters::NlohmannJsonAdapter adapter(*target);
    {
      // Fast path: stop at the first failure, collect nothing.
      valijson::Validator validator;
      if (validator.validate(m_impl->compiled, adapter, nullptr)) return std::nullopt;
    }
    valijson::Validator validator;
    valijson::ValidationResults results;
    validator.validate(m_impl->compiled, adapter, &results);
    return render(explain(results, *target, m_impl->effective), noun);
  } catch (const std::exception&) {
    return "could not validate the " + std::string(noun) + "s against the schema";
  }
}

}  // namespace mcpd::core
