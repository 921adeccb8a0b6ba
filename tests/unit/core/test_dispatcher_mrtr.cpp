// Multi round-trip requests (2026-07-28): an exec child's questions to a modern caller end the
// call with an InputRequiredResult, the retry brings the answers (inputResponses) and the
// sealed requestState, and the child, run again, gets what was already answered at once.

#include "tests/unit/core/dispatcher_fixture.hpp"

namespace {

json modern(json params, json capabilities = json::object()) {
  params["_meta"] = {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                     {"io.modelcontextprotocol/clientCapabilities", std::move(capabilities)}};
  return params;
}

const json k_all{
    {"elicitation", json::object()}, {"sampling", json::object()}, {"roots", json::object()}};

json accept(json content) {
  return {{"action", "accept"}, {"content", std::move(content)}};
}

// Asks `step1` then, once answered, `step2`; prints both answers and its start count.
const char* k_two_steps =
    "read call\n"
    "echo started >> starts\n"
    "echo '{\"request\":{\"id\":\"step1\",\"method\":\"elicitation/create\","
    "\"params\":{\"message\":\"name?\"}}}'\n"
    "read a1\n"
    "echo '{\"request\":{\"id\":\"step2\",\"method\":\"elicitation/create\","
    "\"params\":{\"message\":\"color?\"}}}'\n"
    "read a2\n"
    "printf '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}],"
    "\"structuredContent\":{\"a1\":%s,\"a2\":%s,\"call\":%s}}}\\n' \"$a1\" \"$a2\" \"$call\"\n";

// Three questions in one write, then the answers in order.
const char* k_three_at_once =
    "read call\n"
    "printf '%s\\n%s\\n%s\\n' "
    "'{\"request\":{\"id\":\"who\",\"method\":\"elicitation/"
    "create\",\"params\":{\"message\":\"?\"}}}' "
    "'{\"request\":{\"id\":\"model\",\"method\":\"sampling/"
    "createMessage\",\"params\":{\"maxTokens\":5}}}' "
    "'{\"request\":{\"id\":\"where\",\"method\":\"roots/list\"}}'\n"
    "read x; read y; read z\n"
    "echo '{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"three\"}]}}'\n";

// Asks twice under the same numeric id 1.
const char* k_same_id_twice =
    "read call\n"
    "echo '{\"request\":{\"id\":1,\"method\":\"roots/list\"}}'\n"
    "read first\n"
    "echo '{\"request\":{\"id\":1,\"method\":\"roots/list\"}}'\n"
    "read second\n"
    "printf '{\"result\":{\"content\":[],\"structuredContent\":{\"first\":%s,\"second\":%s}}}\\n' "
    "\"$first\" \"$second\"\n";

void add_tools(Fixture& f) {
  f.catalog->tools.push_back(
      make_tool("two_steps", shell_mcp(f.dir(), k_two_steps), json{{"type", "object"}}));
  f.catalog->tools.push_back(make_tool("three_at_once", shell_mcp(f.dir(), k_three_at_once)));
  f.catalog->tools.push_back(make_tool("same_id_twice", shell_mcp(f.dir(), k_same_id_twice)));
  f.catalog->index();
}

int starts(const Fixture& f) {
  std::ifstream in(f.dir() / "starts");
  int count = 0;
  for (std::string line; std::getline(in, line);) ++count;
  return count;
}

json call(const std::string& tool, json extra = json::object(), json arguments = json::object()) {
  json params{{"name", tool}, {"arguments", std::move(arguments)}};
  for (const auto& [key, value] : extra.items()) params[key] = value;
  return params;
}

}  // namespace

TEST_CASE("a question to a 2026-07-28 client becomes an InputRequiredResult",
          "[core][dispatcher][mrtr]") {
  Fixture f;
  const json first = f.result(1, "tools/call", modern(call("roots"), k_all));
  INFO(first.dump());
  CHECK(first["resultType"] == "input_required");
  CHECK(first["inputRequests"] ==
        json{{"1", {{"method", "roots/list"}, {"params", json::object()}}}});
  REQUIRE(first["requestState"].is_string());
  CHECK(f.outbox.with_method("roots/list").empty());  // never a live request

  const json roots{{"roots", json::array({{{"uri", "file:///work"}}})}};
  const json done = f.result(2, "tools/call",
                             modern(call("roots", {{"inputResponses", {{"1", roots}}},
                                                   {"requestState", first["requestState"]}}),
                                    k_all));
  INFO(done.dump());
  CHECK(done["resultType"] == "complete");
  CHECK(done["structuredContent"] == json{{"id", 1}, {"result", roots}});

  // The answers alone are enough (the retry may reach a server that issued no state).
  const json stateless =
      f.result(3, "tools/call", modern(call("roots", {{"inputResponses", {{"1", roots}}}}), k_all));
  CHECK(stateless["resultType"] == "complete");
}

TEST_CASE("multi-round questions carry the earlier answers in a new requestState",
          "[core][dispatcher][mrtr]") {
  Fixture f;
  add_tools(f);
  const json r1 = f.result(1, "tools/call", modern(call("two_steps"), k_all));
  REQUIRE(r1["resultType"] == "input_required");
  CHECK(r1["inputRequests"].contains("step1"));

  const json r2 =
      f.result(2, "tools/call",
               modern(call("two_steps", {{"inputResponses", {{"step1", accept({{"name", "Ada"}})}}},
                                         {"requestState", r1["requestState"]}}),
                      k_all));
  INFO(r2.dump());
  REQUIRE(r2["resultType"] == "input_required");
  CHECK(r2["inputRequests"].size() == 1);
  CHECK(r2["inputRequests"].contains("step2"));
  CHECK(r2["requestState"] != r1["requestState"]);

  // Only step2 is sent now: step1 comes back from the state.
  const json r3 = f.result(
      3, "tools/call",
      modern(call("two_steps", {{"inputResponses", {{"step2", accept({{"color", "blue"}})}}},
                                {"requestState", r2["requestState"]}}),
             k_all));
  INFO(r3.dump());
  REQUIRE(r3["resultType"] == "complete");
  CHECK(r3["structuredContent"]["a1"]["result"]["content"]["name"] == "Ada");
  CHECK(r3["structuredContent"]["a2"]["result"]["content"]["color"] == "blue");
  // The child is told what it may ask and what was already answered.
  const json context = r3["structuredContent"]["call"]["context"];
  CHECK(context["client_capabilities"] == k_all);
  CHECK(context["input_responses"]["step1"]["content"]["name"] == "Ada");
  CHECK(context["input_responses"]["step2"]["content"]["color"] == "blue");
  CHECK(starts(f) == 3);
}

TEST_CASE("questions written together are asked together", "[core][dispatcher][mrtr]") {
  Fixture f;
  add_tools(f);
  const json r1 = f.result(1, "tools/call", modern(call("three_at_once"), k_all));
  INFO(r1.dump());
  REQUIRE(r1["resultType"] == "input_required");
  CHECK(r1["inputRequests"].size() == 3);
  CHECK(r1["inputRequests"]["model"]["method"] == "sampling/createMessage");

  const json answers{
      {"who", accept({{"name", "Ada"}})},
      {"model", {{"role", "assistant"}, {"content", {{"type", "text"}, {"text", "hi"}}}}},
      {"where", {{"roots", json::array()}}},
      {"unrelated", {{"ignored", true}}}};
  const json done = f.result(2, "tools/call",
                             modern(call("three_at_once", {{"inputResponses", answers},
                                                           {"requestState", r1["requestState"]}}),
                                    k_all));
  CHECK(done["resultType"] == "complete");
  CHECK(first_text(done) == "three");
}

TEST_CASE("a key asked twice in one run names two questions", "[core][dispatcher][mrtr]") {
  Fixture f;
  add_tools(f);
  const json r1 = f.result(1, "tools/call", modern(call("same_id_twice"), k_all));
  REQUIRE(r1["inputRequests"].contains("1"));
  const json r2 = f.result(
      2, "tools/call",
      modern(call("same_id_twice", {{"inputResponses", {{"1", {{"roots", json::array({1})}}}}},
                                    {"requestState", r1["requestState"]}}),
             k_all));
  REQUIRE(r2["resultType"] == "input_required");
  CHECK(r2["inputRequests"].contains("1#2"));
  const json done = f.result(
      3, "tools/call",
      modern(call("same_id_twice", {{"inputResponses", {{"1#2", {{"roots", json::array({2})}}}}},
                                    {"requestState", r2["requestState"]}}),
             k_all));
  INFO(done.dump());
  CHECK(done["structuredContent"]["first"]["result"]["roots"] == json::array({1}));
  CHECK(done["structuredContent"]["second"]["result"]["roots"] == json::array({2}));
}

TEST_CASE("a question the client did not declare it can answer is -32021",
          "[core][dispatcher][mrtr]") {
  Fixture f;
  const json error =
      f.error(1, "tools/call", modern(call("roots"), {{"sampling", json::object()}}));
  CHECK(error["code"] == -32021);
  CHECK(error["data"]["requiredCapabilities"] == json{{"roots", json::object()}});
  CHECK(f.outbox.with_method("roots/list").empty());
}

TEST_CASE("a missing answer is asked again", "[core][dispatcher][mrtr]") {
  Fixture f;
  const json again = f.result(
      1, "tools/call",
      modern(call("roots", {{"inputResponses", {{"wrong_key", accept({{"x", 1}})}}}}), k_all));
  CHECK(again["resultType"] == "input_required");
  CHECK(again["inputRequests"].contains("1"));
}

TEST_CASE("bad input responses and refused states change nothing", "[core][dispatcher][mrtr]") {
  Fixture f;
  add_tools(f);
  const json r1 = f.result(1, "tools/call", modern(call("two_steps"), k_all));
  REQUIRE(starts(f) == 1);
  const json answer{{"step1", accept({{"name", "Ada"}})}};
  const std::string state = r1["requestState"];

  auto refused = [&](const json& params, const std::string& why) {
    const json error = f.error(9, "tools/call", modern(params, k_all));
    INFO(error.dump());
    CHECK(error["code"] == -32602);
    CHECK_THAT(error["message"].get<std::string>(), Catch::Contains(why));
  };
  refused(call("two_steps", {{"inputResponses", nullptr}}), "inputResponses must be an object");
  refused(call("two_steps", {{"inputResponses", {{"step1", 12345}}}}), "inputResponses.step1");
  refused(call("two_steps", {{"inputResponses", answer}, {"requestState", state + "-TAMPERED"}}),
          "integrity");
  refused(call("two_steps", {{"inputResponses", answer}, {"requestState", 7}}),
          "requestState must be a string");
  // Issued for other arguments, for another tool, to another caller.
  refused(call("two_steps", {{"inputResponses", answer}, {"requestState", state}}, {{"x", 1}}),
          "another request");
  refused(call("three_at_once", {{"inputResponses", answer}, {"requestState", state}}),
          "another request");
  Identity other;
  other.user = "eve@example.com";
  other.token_name = "t";
  f.session.set_identity(other);
  refused(call("two_steps", {{"inputResponses", answer}, {"requestState", state}}),
          "another caller");
  CHECK(starts(f) == 1);  // none of them ran the tool
}

TEST_CASE("replicas sharing a key accept each other's requestState", "[core][dispatcher][mrtr]") {
  DispatcherOptions shared;
  shared.state_key = std::string(40, 's');
  Fixture a(shared), b(shared), stranger;
  const json r1 = a.result(1, "tools/call", modern(call("roots"), k_all));
  const json retry = modern(call("roots", {{"inputResponses", {{"1", {{"roots", json::array()}}}}},
                                           {"requestState", r1["requestState"]}}),
                            k_all);
  CHECK(b.result(2, "tools/call", retry)["resultType"] == "complete");
  CHECK(stranger.error(2, "tools/call", retry)["code"] == -32602);
}

TEST_CASE("legacy sessions keep the live relay", "[core][dispatcher][mrtr]") {
  Fixture f;
  f.initialize("2025-11-25", {{"roots", json::object()}});
  std::thread client([&] {
    const json request = f.outbox.wait_for("roots/list");
    f.session.deliver_response(
        {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", {{"roots", json::array()}}}});
  });
  const json result = f.call_tool("roots");
  client.join();
  CHECK_FALSE(result.contains("resultType"));
  CHECK(result["structuredContent"]["result"]["roots"] == json::array());
}
