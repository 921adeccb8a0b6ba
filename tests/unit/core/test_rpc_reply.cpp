#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/protocol/rpc.hpp"

using namespace mcpd::core;

namespace {

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string written(const Reply& reply) {
  std::string out = "prefix ";  // write appends
  reply.write(out, [](std::string& to, const json& value) { to += dump(value); });
  return out.substr(7);
}

}  // namespace

TEST_CASE("a result reply is written as make_result's tree serializes", "[core][rpc]") {
  const std::vector<json> ids{1, -5, 18446744073709551615ULL, "1-1", "é", "\xff", ""};
  const std::vector<json> results{
      json::object(), json::parse(R"({"content":[{"type":"text","text":"echo: hello"}]})"),
      json::parse(R"({"z":1,"a":[null,true,1.5,"\u0000"],"m":{"b":{},"a":[]}})"),
      json{{"bad", "\xc3"}},  // invalid UTF-8: replaced, as the tree's dump replaces it
  };
  for (const auto& id : ids)
    for (const auto& result : results) {
      INFO(dump(id) << " " << dump(result));
      const Reply reply(id, result);
      CHECK(reply.tree() == nullptr);
      CHECK_FALSE(reply.has_error());
      const json tree = make_result(id, result);
      CHECK(written(reply) == dump(tree));
      CHECK(Reply(id, result).to_json() == tree);
    }
}

TEST_CASE("error and batch replies are trees", "[core][rpc]") {
  const json error = make_error("x", RpcError{rpc_code::k_invalid_params, "bad", nullptr});
  const Reply single(error);
  REQUIRE(single.tree() != nullptr);
  CHECK(*single.tree() == error);
  CHECK(single.has_error());
  CHECK(written(single) == dump(error));
  CHECK(Reply(error).to_json() == error);

  const json ok = make_result(1, json::object());
  CHECK(Reply(json::array({ok, error})).has_error());
  CHECK_FALSE(Reply(json::array({ok, ok})).has_error());
  CHECK(written(Reply(json::array({ok, error}))) == dump(json::array({ok, error})));
}

TEST_CASE("a released reply holds nothing", "[core][rpc]") {
  Reply reply(json("id"), json::parse(R"({"content":[{"type":"text","text":"t"}]})"));
  const std::string before = written(reply);
  CHECK(before ==
        R"({"id":"id","jsonrpc":"2.0","result":{"content":[{"text":"t","type":"text"}]}})");
  reply.release();
  CHECK(written(reply) == R"({"id":null,"jsonrpc":"2.0","result":null})");
}
