#include <catch2/catch.hpp>

#include "core/util/json_release.hpp"

using mcpd::core::release;
using json = nlohmann::json;

TEST_CASE("release empties trees of every shape", "[core][json]") {
  json tree = json::parse(
      R"({"a":[1,{"b":[[],{},"x"]},null],"c":{"d":{"e":"a string longer than sixteen"}},"f":2})");
  release(tree);
  CHECK(tree.is_null());

  json leaf = "text";
  release(leaf);
  CHECK(leaf.is_null());

  json empty_array = json::array();
  release(empty_array);
  CHECK(empty_array.is_null());
}

TEST_CASE("release leaves what is nested past its depth to the destructor", "[core][json]") {
  // 10,000 levels: recursion stops at 64 and nlohmann's iterative destructor takes the rest
  // (ASan would report a stack overflow or a leak otherwise).
  json tree = json::array();
  json* inner = &tree;
  for (int i = 0; i < 10000; ++i) {
    inner->push_back(json::object({{"k", json::array()}, {"v", i}}));
    inner = &(*inner)[0]["k"];
  }
  release(tree);
  CHECK(tree.is_null());

  json shallow = json::parse(R"([[[["deep"]]]])");
  release(shallow, 2);  // stops after two levels; the rest is destroyed normally
  CHECK(shallow.is_null());
}
