#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/descriptors/placeholders.hpp"

using namespace mcpd::core;
using nlohmann::json;
using Names = std::vector<std::string>;

TEST_CASE("placeholders are identifiers in braces", "[core][placeholders]") {
  CHECK(find_placeholders("/orders/{order_id}/items/{item}") == Names{"order_id", "item"});
  CHECK(find_placeholders("{a}{a}") == Names{"a", "a"});
  CHECK(find_placeholders("{_x1}") == Names{"_x1"});
  CHECK(find_placeholders("{{name}}") == Names{"name"});
  CHECK(find_placeholders("{}").empty());
  CHECK(find_placeholders("{1a}").empty());
  CHECK(find_placeholders("{ a }").empty());
  CHECK(find_placeholders("{a-b}").empty());
  CHECK(find_placeholders("{a.b}").empty());
  CHECK(find_placeholders("{\"json\": 1}").empty());
  CHECK(find_placeholders("{unclosed").empty());
  CHECK(find_placeholders("closed}").empty());
  CHECK(find_placeholders("{caf\xC3\xA9}").empty());
  CHECK(find_placeholders(std::string("x{y}")) == Names{"y"});
}

TEST_CASE("placeholders are found in string values only", "[core][placeholders]") {
  json templ =
      json::array({json{{"{key}", "{value}"}}, "{a}", 1, true, nullptr, json{{"n", "{b}"}}});
  CHECK(find_placeholders(templ) == Names{"value", "a", "b"});
}

TEST_CASE("argument values become text", "[core][placeholders]") {
  CHECK(placeholder_text("text") == "text");
  CHECK(placeholder_text(nullptr) == "");
  CHECK(placeholder_text(20) == "20");
  CHECK(placeholder_text(-3) == "-3");
  CHECK(placeholder_text(2.5) == "2.5");
  CHECK(placeholder_text(true) == "true");
  CHECK(placeholder_text(json::array({1, "a"})) == "[1,\"a\"]");
  CHECK(placeholder_text(json{{"k", 1}}) == "{\"k\":1}");
}

TEST_CASE("substitution replaces known names and keeps other braces", "[core][placeholders]") {
  json values = {{"query", "lamp"}, {"limit", 20}, {"empty", nullptr}};
  CHECK(substitute("q={query}&limit={limit}", values) == "q=lamp&limit=20");
  CHECK(substitute("{unknown} {query}", values) == "{unknown} lamp");
  CHECK(substitute("[{empty}]", values) == "[]");
  CHECK(substitute("{ query } {{query}}", values) == "{ query } {lamp}");
  CHECK(substitute("no placeholders", values) == "no placeholders");
  CHECK(substitute("{query}", json::array()) == "{query}");
  // Substituted text is not scanned again.
  CHECK(substitute("{a}", json{{"a", "{b}"}, {"b", "x"}}) == "{b}");
}

TEST_CASE("substitution in JSON templates reaches every string value", "[core][placeholders]") {
  json values = {{"id", 7}, {"note", "hi"}};
  json templ = {{"path", "/orders/{id}"},
                {"body", {{"note", "{note}"}, {"id", "{id}"}, {"n", 1}, {"{id}", "key stays"}}}};
  json expected = {{"path", "/orders/7"},
                   {"body", {{"note", "hi"}, {"id", "7"}, {"n", 1}, {"{id}", "key stays"}}}};
  CHECK(substitute(templ, values) == expected);
}

TEST_CASE("substitute_json keeps the type of a sole placeholder", "[core][placeholders]") {
  json values = {{"limit", 20}, {"tags", {"a", "b"}}, {"name", "x"}};
  json templ = {{"limit", "{limit}"},
                {"tags", "{tags}"},
                {"label", "n={limit}"},
                {"name", "{name}"},
                {"other", "{other}"}};
  json expected = {
      {"limit", 20}, {"tags", {"a", "b"}}, {"label", "n=20"}, {"name", "x"}, {"other", "{other}"}};
  CHECK(substitute_json(templ, values) == expected);
}
