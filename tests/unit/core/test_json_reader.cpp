#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/util/json_reader.hpp"

using mcpd::core::JsonRead;
using mcpd::core::read_json;
using json = nlohmann::json;

namespace {

// What nlohmann's json::parse makes of `text`: the tree, or nothing when it refuses it.
std::optional<json> nlohmann_parse(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void same_as_nlohmann(const std::string& text) {
  INFO("text: " << json(text).dump(-1, ' ', true, json::error_handler_t::replace));
  json ours;
  const JsonRead read = read_json(text, ours, 1000);
  const auto theirs = nlohmann_parse(text);
  REQUIRE((read == JsonRead::ok) == theirs.has_value());
  if (!theirs) return;
  CHECK(ours == *theirs);
  CHECK(ours.dump() == theirs->dump());  // the number kinds too: unsigned, signed, double
}

}  // namespace

TEST_CASE("read_json accepts what json::parse accepts, and builds the same tree", "[core][json]") {
  const std::string long_text(300, 'x');
  for (
      const std::string& text : std::vector<std::string>{
          R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}})",
          R"([null,true,false,0,-0,-7,18446744073709551615,-9223372036854775808,1.5,-0.0,1e300])",
          R"([18446744073709551616,-9223372036854775809,1E2,1e+2,1e-2,0.5e1,1e-400,2.2250738585072011e-308])",
          R"([123456789012345678901234567890,0.1,3.141592653589793238462643383279])",
          R"({"k":null,"t":true,"f":false,"s":"é\u00e9\ud83d\ude00\u0000","a":[1,[2,[3]]],"o":{"p":{"q":{}}}})",
          R"(["\"\\\/\b\f\n\r\t","\u00FF\u00ff","日本語","\uD834\uDD1E"])",
          R"({"dup":1,"dup":[2],"dup":{"x":3}})",
          R"([1.5,"s",[],{},[[]],[{}],{"a":{}}])",
          R"({"u":18446744073709551615,"i":-3,"d":2.25,"s":"x"})",
          "{\"" + long_text + "\":\"" + long_text + "\",\"n\":[\"" + long_text + "\"]}",
          " \t\r\n[ 1 , 2 ]\n ",
          "\xEF\xBB\xBF{}",
          "42",
          "\"text\"",
          "null",
          "[]",
          "{}",
          "[[]]",
          "[{}]",
          "0",
          "-1",
          "1.0",
          "\"\xF0\x9F\x98\x80\"",
          "\"\xED\x9F\xBF\"",
          "\"\xF4\x8F\xBF\xBF\"",
      })
    same_as_nlohmann(text);
}

TEST_CASE("read_json refuses what json::parse refuses", "[core][json]") {
  for (const std::string& text : std::vector<std::string>{
           "",
           " ",
           "{",
           "}",
           "[",
           "]",
           "[1,]",
           "[,1]",
           "{,}",
           "{\"a\"}",
           "{\"a\":}",
           "{\"a\" 1}",
           "{\"a\":1,}",
           "{1:2}",
           "{'a':1}",
           "[1 2]",
           "nul",
           "nulll",
           "tru",
           "True",
           "NaN",
           "Infinity",
           "-",
           "+1",
           "01",
           "-01",
           "1.",
           ".5",
           "1e",
           "1e+",
           "1.e5",
           "0x10",
           "1e400",
           "-1E99999",
           "888888E80000",
           "\"",
           "\"abc",
           "\"\\\"",
           "\"\\x\"",
           "\"\\u12\"",
           "\"\\u12G4\"",
           "\"\\uD800\"",
           "\"\\uD800\\u0041\"",
           "\"\\uDC00\"",
           "\"\\uD800x\"",
           "\"\t\"",
           "\"\n\"",
           std::string("\"\0\"", 3),
           "\"\xff\"",
           "\"\xC0\xAF\"",
           "\"\xED\xA0\x80\"",
           "\"\xF4\x90\x80\x80\"",
           "\"\xE2\x82\"",
           "\xEF\xBB",
           "\xEF\xBB\xBF",
           "[1] [2]",
           "{} x",
           "1 1",
           "[1e5.5]",
           "[--1]",
           "[1-1]",
       })
    same_as_nlohmann(text);
}

TEST_CASE("read_json refuses a NUL byte after the value, which nlohmann takes for the end",
          "[core][json]") {
  const std::string text("{\"a\":1}\0junk", 12);
  CHECK(json::parse(text) == json{{"a", 1}});
  json out;
  CHECK(read_json(text, out, 64) == JsonRead::malformed);
  CHECK(read_json(std::string("\"a\0b\"", 5), out, 64) == JsonRead::malformed);  // in a string
  CHECK(read_json(std::string("[1,\0]", 5), out, 64) == JsonRead::malformed);
}

TEST_CASE("read_json stops at the nesting limit before building deeper", "[core][json]") {
  json out;
  CHECK(read_json("[[[]]]", out, 3) == JsonRead::ok);
  CHECK(read_json("[[[[]]]]", out, 3) == JsonRead::too_deep);
  CHECK(read_json(R"({"a":{"b":{"c":{}}}})", out, 3) == JsonRead::too_deep);
  CHECK(read_json(R"({"a":{"b":{"c":1}}})", out, 3) == JsonRead::ok);
  CHECK(read_json("[]", out, 0) == JsonRead::too_deep);
  CHECK(read_json("7", out, 0) == JsonRead::ok);
  // A syntax error met before the limit is just that; the limit met first wins otherwise.
  CHECK(read_json("[1,,[[[]]]]", out, 3) == JsonRead::malformed);
  CHECK(read_json("[[[[]]],,]", out, 3) == JsonRead::too_deep);
  // Deep nesting within the limit parses (each level is one frame of recursion).
  const std::string deep = std::string(900, '[') + std::string(900, ']');
  CHECK(read_json(deep, out, 1000) == JsonRead::ok);
  CHECK(out == json::parse(deep));
}
