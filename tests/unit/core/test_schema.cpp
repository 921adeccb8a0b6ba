#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/descriptors/schema.hpp"

using mcpd::core::Schema;
using mcpd::core::SchemaError;
using nlohmann::json;

namespace {

std::shared_ptr<const Schema> must_compile(const json& document) {
  std::string error;
  auto schema = Schema::compile(document, error);
  INFO(error);
  REQUIRE(schema);
  return schema;
}

SchemaError compile_error(const json& document) {
  SchemaError error;
  auto schema = Schema::compile(document, error);
  REQUIRE_FALSE(schema);
  return error;
}

std::string problem(const Schema& schema, const json& instance) {
  auto message = schema.validate(instance);
  REQUIRE(message);
  return *message;
}

const json k_search = json::parse(R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 1},
    "in_stock": {"type": "boolean", "default": true},
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "sort": {"enum": ["asc", "desc"]},
    "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"},
    "since": {"type": "string", "format": "date"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3, "uniqueItems": true},
    "filter": {
      "type": "object",
      "properties": {"price": {"type": "object", "properties": {"max": {"type": "number", "exclusiveMinimum": 0}}}},
      "additionalProperties": false
    }
  },
  "required": ["query"]
})");

}  // namespace

TEST_CASE("valid arguments pass", "[core][schema]") {
  auto schema = must_compile(k_search);
  CHECK_FALSE(schema->validate({{"query", "lamp"}}));
  CHECK_FALSE(schema->validate({{"query", "lamp"}, {"limit", 100}, {"in_stock", false}}));
  CHECK_FALSE(schema->validate({{"query", "x"}, {"sku", "ABC-12"}, {"since", "2024-02-29"}}));
  CHECK_FALSE(schema->validate({{"query", "x"}, {"filter", {{"price", {{"max", 9.5}}}}}}));
}

TEST_CASE("messages name the argument and the rule", "[core][schema]") {
  auto schema = must_compile(k_search);
  CHECK(problem(*schema, {{"query", "x"}, {"limit", 101}}) ==
        "argument 'limit': must be at most 100");
  CHECK(problem(*schema, {{"query", "x"}, {"limit", 0}}) == "argument 'limit': must be at least 1");
  CHECK(problem(*schema, json::object()) == "missing required argument 'query'");
  CHECK(problem(*schema, {{"query", "x"}, {"in_stock", "yes"}}) ==
        "argument 'in_stock': expected boolean, got string");
  CHECK(problem(*schema, {{"query", "x"}, {"limit", 2.5}}) ==
        "argument 'limit': expected integer, got number");
  CHECK(problem(*schema, {{"query", ""}}) == "argument 'query': must not be empty");
  CHECK(problem(*schema, {{"query", "x"}, {"sort", "up"}}) ==
        "argument 'sort': must be one of \"asc\", \"desc\"");
  CHECK(problem(*schema, {{"query", "x"}, {"sku", "abc"}}) ==
        "argument 'sku': must match the pattern '^[A-Z]{3}-[0-9]+$'");
  CHECK(problem(*schema, {{"query", "x"}, {"since", "2023-02-29"}}) ==
        "argument 'since': must be a date (YYYY-MM-DD)");
  CHECK(problem(*schema, {{"query", "x"}, {"tags", {"a", 1}}}) ==
        "argument 'tags[1]': expected string, got integer");
  CHECK(problem(*schema, {{"query", "x"}, {"tags", {"a", "b", "c", "d"}}}) ==
        "argument 'tags': must have at most 3 items");
  CHECK(problem(*schema, {{"query", "x"}, {"tags", {"a", "a"}}}) ==
        "argument 'tags': must not contain duplicates (items 0 and 1 are equal)");
  CHECK(problem(*schema, {{"query", "x"}, {"filter", {{"price", {{"max", 0}}}}}}) ==
        "argument 'filter.price.max': must be greater than 0");
  CHECK(problem(*schema, {{"query", "x"}, {"filter", {{"colour", "red"}}}}) ==
        "unexpected argument 'filter.colour'");
  CHECK(problem(*schema, json::array()) == "arguments: expected object, got array");
}

TEST_CASE("integral numbers written with a fraction are integers", "[core][schema]") {
  auto schema = must_compile(k_search);
  CHECK_FALSE(schema->validate({{"query", "x"}, {"limit", 5.0}}));
}

TEST_CASE("the noun can be changed for structured results", "[core][schema]") {
  auto schema =
      must_compile(json::parse(R"({"type": "object", "properties": {"total": {"type": "integer"}},
                                              "required": ["total"]})"));
  CHECK(*schema->validate(json::object(), "field") == "missing required field 'total'");
  CHECK(*schema->validate({{"total", "x"}}, "field") ==
        "field 'total': expected integer, got string");
}

TEST_CASE("anyOf failures are worded as a whole", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({"type": "object", "properties": {
      "id": {"anyOf": [{"type": "string"}, {"type": "null"}]},
      "mode": {"oneOf": [{"const": "fast"}, {"const": "safe"}]},
      "range": {"anyOf": [{"type": "object", "properties": {"from": {"type": "integer"}}}, {"type": "null"}]}}})"));
  CHECK(problem(*schema, {{"id", 3}}) == "argument 'id': expected string or null, got integer");
  CHECK(problem(*schema, {{"mode", "slow"}}) ==
        "argument 'mode': must be one of \"fast\", \"safe\"");
  CHECK(problem(*schema, {{"range", {{"from", "x"}}}}) ==
        "argument 'range.from': expected integer, got string");
}

TEST_CASE("2020-12 keywords are understood", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}], "items": false},
              "text": {"type": "string"}},
    "properties": {
      "at": {"$ref": "#/$defs/point"},
      "name": {"$ref": "#/$defs/text", "maxLength": 3},
      "card": {"type": "string"}, "cvv": {"type": "string"}
    },
    "dependentRequired": {"card": ["cvv"]},
    "unevaluatedProperties": false
  })"));
  CHECK_FALSE(schema->validate({{"at", {1, 2}}, {"name", "abc"}}));
  CHECK(problem(*schema, {{"at", {1, "x"}}}) == "argument 'at[1]': expected number, got string");
  CHECK(problem(*schema, {{"at", {1, 2, 3}}}) == "argument 'at': must have at most 2 items");
  CHECK(problem(*schema, {{"name", "abcd"}}) ==
        "argument 'name': must be at most 3 characters long");
  CHECK(problem(*schema, {{"card", "4111"}}) ==
        "missing required argument 'cvv' (needed with 'card')");
  CHECK(problem(*schema, {{"other", 1}}) == "unexpected argument 'other'");
}

TEST_CASE("draft-07 documents compile", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "definitions": {"n": {"type": "integer", "exclusiveMaximum": 10}},
    "properties": {"n": {"$ref": "#/definitions/n"}, "pair": {"type": "array", "items": [{"type": "string"}], "additionalItems": false}},
    "dependencies": {"n": ["pair"]}
  })"));
  CHECK(problem(*schema, {{"n", 10}, {"pair", {"a"}}}) == "argument 'n': must be less than 10");
  CHECK(problem(*schema, {{"pair", {"a", "b"}}}) == "argument 'pair': must have at most 1 items");
  CHECK(problem(*schema, {{"n", 1}}) == "missing required argument 'pair' (needed with 'n')");
}

TEST_CASE("invalid schemas are refused with a pointer", "[core][schema]") {
  auto e = compile_error({{"type", "strnig"}});
  CHECK(e.pointer == "/type");
  CHECK(e.message ==
        "unknown type 'strnig'; expected one of array, boolean, integer, null, number, object, "
        "string");

  e = compile_error(json::parse(R"({"type": "object", "properties": {"a": {"minimum": "x"}}})"));
  CHECK(e.pointer == "/properties/a/minimum");
  CHECK(e.message == "'minimum': expected number, got string");

  e = compile_error(json::parse(R"({"required": "query"})"));
  CHECK(e.pointer == "/required");

  e = compile_error(json::parse(R"({"properties": {"a": 5}})"));
  CHECK(e.pointer == "/properties/a");

  e = compile_error(json::parse(R"({"type": ["string", "string"]})"));
  CHECK(e.message == "'type' lists 'string' twice");

  e = compile_error(json::parse(R"({"maxLength": -1})"));
  CHECK(e.pointer == "/maxLength");
  CHECK(e.message == "'maxLength': must be at least 0");

  e = compile_error(json::array());
  CHECK(e.message == "a JSON Schema must be an object or a boolean, got array");
}

TEST_CASE("references must be local, resolve and not loop", "[core][schema]") {
  auto e = compile_error(json::parse(R"({"$ref": "https://example.com/schema.json"})"));
  CHECK(e.pointer == "/$ref");
  CHECK(e.message.find("remote reference") != std::string::npos);

  e = compile_error(json::parse(R"({"properties": {"a": {"$ref": "#/$defs/missing"}}})"));
  CHECK(e.pointer == "/properties/a/$ref");
  CHECK(e.message == "reference '#/$defs/missing' does not resolve");

  e = compile_error(json::parse(R"({"$ref": "#"})"));
  CHECK(e.message.find("circular") != std::string::npos);
  e = compile_error(json::parse(
      R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
                                    "properties": {"x": {"$ref": "#/$defs/a"}}})"));
  CHECK(e.message.find("circular") != std::string::npos);

  e = compile_error(json::parse(R"({"$ref": "#anchor"})"));
  CHECK(e.pointer == "/$ref");

  // Recursion through a property is fine.
  auto tree = must_compile(json::parse(R"({"type": "object", "properties": {
      "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}})"));
  CHECK_FALSE(tree->validate({{"name", "a"}, {"children", {{{"name", "b"}}}}}));
  CHECK(problem(*tree, {{"children", {{{"name", 1}}}}}) ==
        "argument 'children[0].name': expected string, got integer");
}

TEST_CASE("unsupported dialects and patterns are compile errors", "[core][schema]") {
  auto e = compile_error({{"$schema", "http://json-schema.org/draft-04/schema#"}});
  CHECK(e.pointer == "/$schema");
  e = compile_error({{"type", "string"}, {"pattern", "(a"}});
  CHECK(e.pointer == "/pattern");
  e = compile_error({{"type", "string"}, {"pattern", "(a)\\1"}});
  CHECK(e.message.find("back-references") != std::string::npos);
  e = compile_error(json::parse(R"({"patternProperties": {"[": {}}})"));
  CHECK(e.pointer == "/patternProperties/[");
}

TEST_CASE("long strings against a pattern do not exhaust the stack", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({"type": "object", "properties": {
      "code": {"type": "string", "pattern": "^(a|b)*$"}}})"));
  std::string long_text(200000, 'a');
  CHECK_FALSE(schema->validate({{"code", long_text}}));
  long_text.back() = 'c';
  CHECK(schema->validate({{"code", long_text}}));
}

TEST_CASE("validation is thread-safe", "[core][schema]") {
  auto schema = must_compile(k_search);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto ok = schema->validate({{"query", "x"}, {"sku", "ABC-1"}});
        auto bad = schema->validate({{"query", "x"}, {"sku", "nope"}});
        if (ok || !bad) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(4, 0));
}

TEST_CASE("more keywords get specific messages", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({"type": "object", "properties": {
      "at": {"type": "string", "format": "date-time"},
      "clock": {"type": "string", "format": "time"},
      "email": {"type": "string", "format": "email"},
      "version": {"const": 2},
      "step": {"type": "number", "multipleOf": 5},
      "name": {"type": "string", "not": {"enum": ["root"]}},
      "labels": {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
      "ids": {"type": "array", "minItems": 2, "contains": {"type": "integer"}},
      "maybe": {"type": ["string", "null"]}}})"));
  CHECK_FALSE(schema->validate({{"at", "2025-01-31T14:30:00.5+01:00"},
                                {"clock", "23:59:60Z"},
                                {"email", "not checked"},
                                {"version", 2},
                                {"step", 10},
                                {"labels", {{"ok", 1}}},
                                {"ids", {"a", 1}},
                                {"maybe", nullptr}}));
  CHECK(problem(*schema, {{"at", "2025-01-31 14:30:00Z"}}) ==
        "argument 'at': must be a date-time (e.g. 2025-01-31T14:30:00Z)");
  CHECK(problem(*schema, {{"clock", "24:00:00Z"}}) ==
        "argument 'clock': must be a time (HH:MM:SS with a UTC offset, e.g. 14:30:00Z)");
  CHECK(problem(*schema, {{"version", 3}}) == "argument 'version': must be 2");
  CHECK(problem(*schema, {{"step", 7}}) == "argument 'step': must be a multiple of 5");
  CHECK(problem(*schema, {{"name", "root"}}) == "argument 'name': is not allowed");
  CHECK(problem(*schema, {{"labels", {{"ok", 1}, {"Bad", 1}}}}) ==
        "argument 'labels': property name 'Bad' must match the pattern '^[a-z]+$'");
  CHECK(problem(*schema, {{"ids", {1}}}) == "argument 'ids': must have at least 2 items");
  CHECK(problem(*schema, {{"ids", {"a", "b"}}}) ==
        "argument 'ids': must contain at least one matching item");
  CHECK(problem(*schema, {{"maybe", 1}}) ==
        "argument 'maybe': expected string or null, got integer");
}

TEST_CASE("$ref siblings apply unless the schema says draft-07", "[core][schema]") {
  const char* properties = R"("type": "object", "definitions": {"s": {"type": "string"}},
      "properties": {"code": {"$ref": "#/definitions/s", "maxLength": 2}})";
  auto modern = must_compile(json::parse(std::string("{") + properties + "}"));
  CHECK(problem(*modern, {{"code", "abc"}}) ==
        "argument 'code': must be at most 2 characters long");
  CHECK(problem(*modern, {{"code", 1}}) == "argument 'code': expected string, got integer");
  auto draft07 = must_compile(
      json::parse(std::string(R"({"$schema": "http://json-schema.org/draft-07/schema#", )") +
                  properties + "}"));
  CHECK_FALSE(draft07->validate({{"code", "abc"}}));
}

TEST_CASE("patternProperties keys are length-guarded", "[core][schema]") {
  auto schema = must_compile(json::parse(R"({"type": "object",
      "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": false})"));
  CHECK_FALSE(schema->validate({{"x_a", 1}}));
  CHECK(problem(*schema, {{"x_a", "1"}}) == "argument 'x_a': expected integer, got string");
  CHECK(problem(*schema, {{"y", 1}}) == "unexpected argument 'y'");
  auto message = problem(*schema, {{"x_" + std::string(100000, 'a'), 1}});
  CHECK(message.find("longer than 256 characters") != std::string::npos);
}

TEST_CASE("boolean schemas", "[core][schema]") {
  CHECK_FALSE(must_compile(true)->validate({{"anything", 1}}));
  CHECK(problem(*must_compile(false), json::object()) == "arguments: is not allowed");
  auto schema = must_compile(json::parse(R"({"type": "object", "properties": {"legacy": false}})"));
  CHECK(problem(*schema, {{"legacy", 1}}) == "argument 'legacy': is not allowed");
}

TEST_CASE("the document is kept as written", "[core][schema]") {
  json document = json::parse(
      R"({"type": "object", "properties": {"a": {"type": "string", "pattern": "^a"}}})");
  auto schema = must_compile(document);
  CHECK(schema->document() == document);
  std::string error;
  CHECK(Schema::compile({{"type", "strnig"}}, error) == nullptr);
  CHECK(error ==
        "at '/type': unknown type 'strnig'; expected one of array, boolean, integer, null, "
        "number, object, string");
}

TEST_CASE("error pointers refer to the schema as written", "[core][schema]") {
  // The "$ref" next to "type" is rewritten into an "allOf" internally; the pointer is not.
  auto e =
      compile_error(json::parse(R"({"properties": {"a": {"$ref": "#/nope", "type": "string"}}})"));
  CHECK(e.pointer == "/properties/a/$ref");
  json looping =
      json::parse(R"({"type": "object", "properties": {"a": {"$ref": "#", "minProperties": 1}},
                                 "$ref": "#/properties/a"})");
  e = compile_error(looping);
  CHECK(e.message.find("circular") != std::string::npos);
  CHECK(looping.contains(json::json_pointer(e.pointer)));
}

// Schemas made only of type, properties, required, additionalProperties (boolean), items and
// enum of strings are confirmed valid without valijson (Schema::validate's fast path). The
// same schema with "minProperties": 0 added at the root means the same but is outside that
// subset, so it is decided by valijson alone: the two must agree on every instance.
TEST_CASE("the fast path for simple schemas agrees with valijson", "[core][schema]") {
  const std::vector<json> schemas = {
      json::parse(R"({"type":"object","properties":{"message":{"type":"string"}},
                      "required":["message"]})"),
      json::parse(R"({"type":"object","properties":{"n":{"type":"integer"},
                      "x":{"type":["number","null"]},"b":{"type":"boolean"}},
                      "additionalProperties":false,"required":["n"],"description":"d"})"),
      json::parse(R"({"type":"object","properties":{"tags":{"type":"array",
                      "items":{"type":"string","enum":["a","b"]}},
                      "inner":{"type":"object","properties":{"k":{"type":"integer"}},
                      "required":["k"],"additionalProperties":false}}})"),
      json::parse(R"({"properties":{"any":{}, "title":{"title":"t","type":"string"}}})"),
      json::parse(R"({"type":"object","properties":{"message":{"type":"string","minLength":1},
                      "code":{"type":"string","minLength":2,"maxLength":3}}})"),
  };
  const std::vector<json> instances = {
      json::object(),
      json::parse(R"({"message":"hi"})"),
      json::parse(R"({"message":5})"),
      json::parse(R"({"message":"hi","extra":[1,2]})"),
      json::parse(R"({"n":1})"),
      json::parse(R"({"n":1.0})"),
      json::parse(R"({"n":1.5})"),
      json::parse(R"({"n":18446744073709551615})"),
      json::parse(R"({"n":-3,"x":null,"b":true})"),
      json::parse(R"({"n":3,"x":"1"})"),
      json::parse(R"({"n":3,"y":1})"),
      json::parse(R"({"n":1e300})"),
      json::parse(R"({"tags":["a","b","a"]})"),
      json::parse(R"({"tags":["a","c"]})"),
      json::parse(R"({"tags":"a"})"),
      json::parse(R"({"inner":{"k":2}})"),
      json::parse(R"({"inner":{"k":2,"z":0}})"),
      json::parse(R"({"inner":{}})"),
      json::parse(R"({"any":{"deep":[null]},"title":"x"})"),
      json::parse(R"({"title":7})"),
      json::array(),
      json("text"),
      json(nullptr),
      json(4),
      json::parse(R"({"message":""})"),
      json::parse(R"({"message":"\u00e9"})"),
      json::parse(R"({"code":"ab"})"),
      json::parse(R"({"code":"a\u00e9\u4e2d"})"),
      json::parse(R"({"code":"\ud83d\ude00\ud83d\ude00"})"),
      json::parse(R"({"code":"abcd"})"),
      json::parse(R"({"code":"a"})"),
      json::parse(R"({"code":"a\u0000b"})"),
      json{{"code", "\xc3\xa9\xc3"}},   // invalid UTF-8 (truncated): left to valijson
      json{{"message", "\xc0\x80"}},     // overlong NUL: left to valijson
  };
  for (const auto& document : schemas) {
    auto fast = must_compile(document);
    auto reference_document = document;
    reference_document["minProperties"] = 0;
    auto reference = must_compile(reference_document);
    for (const auto& instance : instances) {
      INFO("schema " << document.dump() << "\ninstance "
                     << instance.dump(-1, ' ', false, json::error_handler_t::replace));
      CHECK(fast->validate(instance).has_value() == reference->validate(instance).has_value());
      CHECK(fast->validate(instance) == reference->validate(instance));
    }
  }
}
