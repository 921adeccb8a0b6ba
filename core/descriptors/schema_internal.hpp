#pragma once
// Internals of schema.cpp, shared with schema_explain.cpp and schema_meta.cpp. Includes
// valijson, so only those files include it.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <string_view>
#include <valijson/schema.hpp>
#include <valijson/validation_results.hpp>
#include <vector>

#include "core/descriptors/schema.hpp"

namespace mcpd::core::schema_detail {

using json = nlohmann::json;

// Errors pushed by our own constraints start with this marker: their text is final.
inline constexpr std::string_view k_final_marker = "\x1f";

// Where a keyword keeps subschemas.
enum class Slot {
  none,          // not a subschema keyword (data, annotations, numbers, ...)
  schema,        // one schema: "not", "items" (object form), "additionalProperties", ...
  schema_array,  // "allOf", "anyOf", "oneOf", "prefixItems", "items" (array form)
  schema_map,    // "properties", "patternProperties", "$defs", "definitions", ...
};
Slot keyword_slot(std::string_view keyword, const json& value);

// ECMAScript regular expressions as patterns use them; on libstdc++ matched by the
// polynomial (non-recursive) executor, so input length cannot exhaust the stack.
std::regex make_pattern_regex(const std::string& pattern);  // throws std::regex_error

// A step in the path to a failing value.
struct Token {
  std::string key;
  bool is_index = false;
  std::size_t index = 0;
};
using Path = std::vector<Token>;
std::string path_to_pointer(const Path& path);

// The one error worth telling, picked from valijson's results.
struct Finding {
  enum class Kind { value, missing, unexpected };
  Kind kind = Kind::value;
  Path path;           // where; for missing/unexpected the member itself
  std::string detail;  // what is wrong with the value (Kind::value)
};

// Picks the most specific error (deepest context) and words it, looking up details
// (limits, types, allowed values) in `schema`, the document the instance was checked against.
Finding explain(const valijson::ValidationResults& results, const json& instance,
                const json& schema);

// Follows local "$ref"s from `node`; nullptr when one does not resolve (or loops).
const json* resolve_refs(const json& root, const json* node);
// Decodes the fragment of a local reference ("#/a%20b/0") into a JSON pointer string.
bool ref_to_pointer(std::string_view ref, std::string& pointer);

// Type name as JSON Schema spells it: integer for numbers without a fraction part.
std::string type_name(const json& value);

// The document valijson compiles: `schema` with 2020-12 keywords rewritten to draft-07 ones,
// "pattern"/"format" renamed to our own keywords, and every "$ref" checked to be local,
// resolvable and not circular (valijson would loop forever on a "$ref" cycle).
inline constexpr std::string_view k_pattern_keyword = "x-mcpd-pattern";
inline constexpr std::string_view k_format_keyword = "x-mcpd-format";
struct RewriteResult {
  bool ok = false;
  json document;
  bool uses_pattern_properties = false;
};
RewriteResult rewrite_for_valijson(const json& schema, SchemaError& error);

// RFC 3339 formats, as JSON Schema's "date", "time" and "date-time".
bool is_rfc3339_date(std::string_view text);
bool is_rfc3339_time(std::string_view text);
bool is_rfc3339_date_time(std::string_view text);

// The draft-07 meta-schema with the 2020-12 keywords mcpd understands, compiled once.
const valijson::Schema& meta_schema();
const json& meta_schema_document();

}  // namespace mcpd::core::schema_detail
