#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/descriptors/json_locator.hpp"

using mcpd::core::JsonLocator;
using mcpd::core::pointer_append;
using mcpd::core::TextPosition;

namespace Catch {
template <>
struct StringMaker<TextPosition> {
  static std::string convert(const TextPosition& p) {
    return std::to_string(p.line) + ":" + std::to_string(p.column);
  }
};
}  // namespace Catch

namespace {

TextPosition pos(int line, int column) {
  return TextPosition{line, column};
}

// Catch cannot print an optional; an unknown position prints as 0:0.
TextPosition value_at(const JsonLocator& locator, std::string_view pointer) {
  return locator.value_position(pointer).value_or(TextPosition{});
}
TextPosition key_at(const JsonLocator& locator, std::string_view pointer) {
  return locator.key_position(pointer).value_or(TextPosition{});
}

}  // namespace

TEST_CASE("values and keys are located by JSON pointer", "[core][json_locator]") {
  const std::string text =
      "{\n"
      "  \"tools\": [\n"
      "    {\"name\": \"search\", \"n\": -1.5e3},\n"
      "    {\"name\": \"b\",\n"
      "     \"flags\": [true, false, null], \"empty\": {}, \"none\": []}\n"
      "  ]\n"
      "}\n";
  JsonLocator locator(text);
  CHECK(locator.complete());
  CHECK(value_at(locator, "") == pos(1, 1));
  CHECK(key_at(locator, "/tools") == pos(2, 3));
  CHECK(value_at(locator, "/tools") == pos(2, 12));
  CHECK(value_at(locator, "/tools/0") == pos(3, 5));
  CHECK(key_at(locator, "/tools/0/name") == pos(3, 6));
  CHECK(value_at(locator, "/tools/0/name") == pos(3, 14));
  CHECK(value_at(locator, "/tools/0/n") == pos(3, 29));
  CHECK_FALSE(locator.key_position("/tools/0"));  // array elements have no key
  CHECK(value_at(locator, "/tools/1/name") == pos(4, 14));
  CHECK(value_at(locator, "/tools/1/flags/0") == pos(5, 16));
  CHECK(value_at(locator, "/tools/1/flags/2") == pos(5, 29));
  CHECK(value_at(locator, "/tools/1/empty") == pos(5, 45));
  CHECK(value_at(locator, "/tools/1/none") == pos(5, 57));
  CHECK_FALSE(locator.value_position("/tools/2"));
  CHECK(locator.max_depth() == 4);
  CHECK(locator.duplicate_keys().empty());
}

TEST_CASE("locate falls back to the nearest known ancestor", "[core][json_locator]") {
  JsonLocator locator("{\"a\": {\"b\": 1}}");
  CHECK(locator.locate("/a/b") == pos(1, 13));
  CHECK(locator.locate("/a/b", true) == pos(1, 8));
  CHECK(locator.locate("/a/missing") == pos(1, 7));
  CHECK(locator.locate("/a/missing", true) == pos(1, 7));  // the ancestor's value, not its key
  CHECK(locator.locate("/x/y/z") == pos(1, 1));
}

TEST_CASE("keys are decoded and escaped into pointers", "[core][json_locator]") {
  const std::string text = R"({"a/b": 1, "m~n": 2, "caf\u00e9": 3, "\ud83d\ude00": 4, "q\"t": 5})";
  JsonLocator locator(text);
  REQUIRE(locator.complete());
  CHECK(value_at(locator, "/a~1b") == pos(1, 9));
  CHECK(value_at(locator, "/m~0n") == pos(1, 19));
  CHECK(value_at(locator, "/caf\xC3\xA9") == pos(1, 35));
  CHECK(value_at(locator, "/\xF0\x9F\x98\x80") == pos(1, 54));
  CHECK(value_at(locator, "/q\"t") == pos(1, 65));
  // The pointers agree with nlohmann's.
  auto document = nlohmann::json::parse(text);
  CHECK(document.at(nlohmann::json::json_pointer("/a~1b")) == 1);
  CHECK(document.at(nlohmann::json::json_pointer("/caf\xC3\xA9")) == 3);
}

TEST_CASE("columns count characters, not bytes", "[core][json_locator]") {
  // "é" is two bytes and "😀" four; each is one column.
  JsonLocator locator("{\"k\": \"\xC3\xA9\xF0\x9F\x98\x80\", \"z\": 1}");
  CHECK(value_at(locator, "/z") == pos(1, 18));
  CHECK(JsonLocator::position_at("\xC3\xA9x", 2) == pos(1, 2));
}

TEST_CASE("a byte order mark is skipped", "[core][json_locator]") {
  JsonLocator locator("\xEF\xBB\xBF{\"a\": 1}");
  CHECK(locator.complete());
  CHECK(value_at(locator, "") == pos(1, 1));
  CHECK(value_at(locator, "/a") == pos(1, 7));
}

TEST_CASE("CRLF line endings and tabs", "[core][json_locator]") {
  JsonLocator locator("{\r\n\t\"a\":\r\n\t\t[1,\r\n 2]}");
  CHECK(value_at(locator, "/a") == pos(3, 3));
  CHECK(value_at(locator, "/a/0") == pos(3, 4));
  CHECK(value_at(locator, "/a/1") == pos(4, 2));
}

TEST_CASE("duplicate keys are reported, the last one is located", "[core][json_locator]") {
  JsonLocator locator("{\"a\": 1,\n \"a\": 2}");
  REQUIRE(locator.duplicate_keys().size() == 1);
  CHECK(locator.duplicate_keys()[0].pointer == "/a");
  CHECK(locator.duplicate_keys()[0].position == pos(2, 2));
  CHECK(value_at(locator, "/a") == pos(2, 7));
  // The same key in different objects is no duplicate.
  JsonLocator separate("[{\"a\": 1}, {\"a\": 2}]");
  CHECK(separate.duplicate_keys().empty());
}

TEST_CASE("parse errors map byte offsets to positions", "[core][json_locator]") {
  const std::string text = "{\n  \"tools\": [\n    {\"name\": \"a\",}\n  ]\n}\n";
  try {
    (void)nlohmann::json::parse(text);
    FAIL("expected a parse error");
  } catch (const nlohmann::json::parse_error& e) {
    CHECK(JsonLocator::position_at(text, e.byte - 1) == pos(3, 18));
  }
  CHECK(JsonLocator::position_at(text, 0) == pos(1, 1));
  CHECK(JsonLocator::position_at(text, 1000) == pos(6, 1));  // past the end
}

TEST_CASE("malformed text stops the scan without crashing", "[core][json_locator]") {
  for (const char* text : {"", "{", "{\"a\" 1}", "[1,", "\"abc", "{\"a\": [1, 2}", "[1] 2",
                           "{\"a\": \"\\u12\"}", "[\"\x01\"]"}) {
    INFO(text);
    JsonLocator locator(text);
    CHECK_FALSE(locator.complete());
  }
  JsonLocator partial("{\"a\": 1, \"b\": }");
  CHECK(value_at(partial, "/a") == pos(1, 7));
}

TEST_CASE("deep nesting needs no recursion", "[core][json_locator]") {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  JsonLocator locator(deep);
  CHECK(locator.complete());
  CHECK(locator.max_depth() == 100000);
}

TEST_CASE("pointer_append escapes reference tokens", "[core][json_locator]") {
  CHECK(pointer_append("", "tools") == "/tools");
  CHECK(pointer_append("/tools", std::size_t{3}) == "/tools/3");
  CHECK(pointer_append("/x", "a/b~c") == "/x/a~1b~0c");
}
