#pragma once
// JSON Schema (2020-12 and draft-07) compiled once at load time with valijson, then used to
// validate tool arguments and structured results. The valijson types stay in the .cpp.
//
// Dialects: "$schema" picks the dialect when present (draft-07 and draft-06 are read as
// draft-07; 2020-12 and 2019-09 as 2020-12); any other "$schema" is refused. Without
// "$schema" a document is read as 2020-12 (MCP's default dialect), and the draft-07 forms
// ("definitions", "dependencies", "items" as an array) are understood too. 2020-12 keywords
// that valijson lacks are rewritten to their draft-07 equivalents: "prefixItems",
// "dependentRequired", "dependentSchemas", a "$ref" with sibling keywords, and
// "unevaluatedProperties"/"unevaluatedItems" on a schema without applicators (elsewhere those
// two are ignored). "format" asserts date, time and date-time; other formats are annotations.
// Only local "$ref"s ("#", "#/json/pointer") are allowed: remote references and anchors are
// compile errors, never fetched. Patterns are ECMAScript regular expressions without
// back-references, matched in linear time (long inputs cannot exhaust the stack).

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mcpd::core {

// Why a document is not a usable JSON Schema.
struct SchemaError {
  std::string message;  // e.g. "unknown type 'strnig'; expected one of array, boolean, ..."
  std::string pointer;  // JSON pointer of the offending part of the schema ("" = the root)
};

class Schema {
 public:
  // Compiles `schema`. Returns nullptr and sets `error` when it is not a usable JSON Schema
  // (checked against the draft-07 meta-schema, extended with the 2020-12 keywords above).
  static std::shared_ptr<const Schema> compile(const nlohmann::json& schema, std::string& error);
  static std::shared_ptr<const Schema> compile(const nlohmann::json& schema, SchemaError& error);
  ~Schema();

  // std::nullopt when `instance` is valid; otherwise one human message naming the field,
  // e.g. "argument 'limit': must be at most 100", "missing required argument 'query'",
  // "argument 'in_stock': expected boolean, got string". `noun` names what is validated
  // ("argument" for tool arguments; e.g. "field" for structuredContent). Thread-safe.
  // Numbers with a zero fraction (5.0) count as integers, as JSON Schema says.
  std::optional<std::string> validate(const nlohmann::json& instance,
                                      std::string_view noun = "argument") const;

  const nlohmann::json& document() const { return m_document; }

 private:
  struct Impl;
  Schema(nlohmann::json document, std::unique_ptr<Impl> impl);
  nlohmann::json m_document;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mcpd::core
