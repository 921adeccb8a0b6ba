// The meta-schema every inputSchema/outputSchema is checked against: JSON Schema draft-07's
// own meta-schema (http://json-schema.org/draft-07/schema), plus the types of the 2019-09 and
// 2020-12 keywords that schema.cpp understands, so a misspelt type or a string "minimum" is
// refused in either dialect.

#include <memory>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema_parser.hpp>

#include "core/descriptors/schema_internal.hpp"

namespace mcpd::core::schema_detail {

namespace {

constexpr const char* k_meta_schema = R"json({
  "title": "Core schema meta-schema (draft-07, with 2020-12 keywords)",
  "definitions": {
    "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "nonNegativeIntegerDefault0": {
      "allOf": [{"$ref": "#/definitions/nonNegativeInteger"}, {"default": 0}]
    },
    "simpleTypes": {
      "enum": ["array", "boolean", "integer", "null", "number", "object", "string"]
    },
    "stringArray": {
      "type": "array", "items": {"type": "string"}, "uniqueItems": true, "default": []
    }
  },
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string", "format": "uri-reference"},
    "$schema": {"type": "string", "format": "uri"},
    "$ref": {"type": "string", "format": "uri-reference"},
    "$comment": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "default": true,
    "readOnly": {"type": "boolean", "default": false},
    "writeOnly": {"type": "boolean", "default": false},
    "examples": {"type": "array", "items": true},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/nonNegativeInteger"},
    "minLength": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "pattern": {"type": "string", "format": "regex"},
    "additionalItems": {"$ref": "#"},
    "items": {
      "anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}],
      "default": true
    },
    "maxItems": {"$ref": "#/definitions/nonNegativeInteger"},
    "minItems": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "uniqueItems": {"type": "boolean", "default": false},
    "contains": {"$ref": "#"},
    "maxProperties": {"$ref": "#/definitions/nonNegativeInteger"},
    "minProperties": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "required": {"$ref": "#/definitions/stringArray"},
    "additionalProperties": {"$ref": "#"},
    "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "properties": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "patternProperties": {
      "type": "object",
      "additionalProperties": {"$ref": "#"},
      "propertyNames": {"format": "regex"},
      "default": {}
    },
    "dependencies": {
      "type": "object",
      "additionalProperties": {
        "anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/stringArray"}]
      }
    },
    "propertyNames": {"$ref": "#"},
    "const": true,
    "enum": {"type": "array", "items": true},
    "type": {
      "anyOf": [
        {"$ref": "#/definitions/simpleTypes"},
        {
          "type": "array",
          "items": {"$ref": "#/definitions/simpleTypes"},
          "minItems": 1,
          "uniqueItems": true
        }
      ]
    },
    "format": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "allOf": {"$ref": "#/definitions/schemaArray"},
    "anyOf": {"$ref": "#/definitions/schemaArray"},
    "oneOf": {"$ref": "#/definitions/schemaArray"},
    "not": {"$ref": "#"},

    "$defs": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "$anchor": {"type": "string"},
    "$dynamicAnchor": {"type": "string"},
    "$dynamicRef": {"type": "string"},
    "$vocabulary": {"type": "object", "additionalProperties": {"type": "boolean"}},
    "deprecated": {"type": "boolean", "default": false},
    "prefixItems": {"$ref": "#/definitions/schemaArray"},
    "dependentRequired": {
      "type": "object", "additionalProperties": {"$ref": "#/definitions/stringArray"}
    },
    "dependentSchemas": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "unevaluatedItems": {"$ref": "#"},
    "unevaluatedProperties": {"$ref": "#"},
    "contentSchema": {"$ref": "#"},
    "maxContains": {"$ref": "#/definitions/nonNegativeInteger"},
    "minContains": {"$ref": "#/definitions/nonNegativeInteger"}
  },
  "default": true
})json";

}  // namespace

const json& meta_schema_document() {
  static const json document = json::parse(k_meta_schema);
  return document;
}

const valijson::Schema& meta_schema() {
  // valijson::Schema can be neither copied nor moved.
  static const std::unique_ptr<valijson::Schema> schema = [] {
    auto compiled = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(meta_schema_document());
    parser.populateSchema(adapter, *compiled);
    return compiled;
  }();
  return *schema;
}

}  // namespace mcpd::core::schema_detail
